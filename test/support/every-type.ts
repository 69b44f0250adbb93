// A table with one column per row of the type table (src/dialect/types.ts) and its variants,
// and rows of edge values (zero and invalid dates among them: load with zero_date = "null").
// Shared by the copy's row-reader test and the copy's end-to-end test. Insert under
// sql_mode = '' and time_zone = '+00:00' (the zero dates, and TIMESTAMP literals read as UTC).

// One column per row of the type table, and its variants (signedness, fsp, sizes, charsets).
export const COLUMNS = `id INT PRIMARY KEY, bo BOOL, ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED NOT NULL DEFAULT 0, d DECIMAL(65,30), d2 DECIMAL(10,2) UNSIGNED, d0 DECIMAL, f FLOAT, fmd FLOAT(7,3), db DOUBLE,
  b1 BIT(1), b10 BIT(10), b64 BIT(64), y YEAR, dt DATE, tm TIME(6), tm0 TIME, dtm DATETIME(6), dtm0 DATETIME, ts TIMESTAMP(3) NULL, ts0 TIMESTAMP NULL,
  ch CHAR(5), vc VARCHAR(40), l1 VARCHAR(10) CHARACTER SET latin1, l1c CHAR(4) CHARACTER SET latin1, tt TINYTEXT, tx TEXT, mt MEDIUMTEXT, lt LONGTEXT,
  bn BINARY(4), vb VARBINARY(8), tb TINYBLOB, bl BLOB, mb MEDIUMBLOB, lb LONGBLOB, e ENUM('','a','b c','ü'), st SET('x','y','z'), j JSON, g GEOMETRY, pt POINT`;
const NCOLS = 48;

export const ROWS = [
  `(1, 0, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0, '-99999999999999999999999999999999999.999999999999999999999999999999', 0, -9999999999, -3.4028235e38, -9999.999, -1.7976931348623157e308,
    b'0', b'0000000000', b'0', 0, '1000-01-01', '-838:59:59.000000', '-838:59:59', '1000-01-01 00:00:00.000000', '1000-01-01 00:00:00', '1970-01-01 00:00:01.000', '1970-01-01 00:00:01',
    '', '', '', '', '', '', '', '', x'00000000', x'', x'', x'', x'', x'', '', '', '[]', ST_GeomFromText('POINT(0 0)'), ST_GeomFromText('POINT(0 0)', 4326))`,
  `(2, 1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, '99999999999999999999999999999999999.999999999999999999999999999999', 99999999.99, 9999999999, 3.4028235e38, 9999.999, 1.7976931348623157e308,
    b'1', b'1000000001', b'1111111111111111111111111111111111111111111111111111111111111111', 2155, '9999-12-31', '838:59:59.000000', '838:59:59', '9999-12-31 23:59:59.999999', '9999-12-31 23:59:59', '2038-01-19 03:14:07.999', '2038-01-19 03:14:07',
    'abc  ', 'emoji 😀 ünïcode \\\\ tab\\t nl\\n cr\\r', x'80e9ff81', x'41208120', 'tiny', 'text', 'medium', 'long', x'01020000', x'00ff00', x'00', x'0102', x'00000000', x'ff00',
    'ü', 'x,y,z', '{"a": [1, 2.5, "x", null, true], "b\\\\tc": "\\\\u00e9"}', ST_GeomFromText('LINESTRING(1 2, 3.5 -4)'), ST_GeomFromText('POINT(1.5 2.25)', 4326))`,
  `(3${", NULL".repeat(10)}, 0${", NULL".repeat(NCOLS - 12)})`,
  `(4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0, 0.1, b'0', b'0', b'0', 0, '0000-00-00', '-00:00:00.500000', '00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '0000-00-00 00:00:00',
    ' a', ' ', ' ', '  ', ' ', '  ', '\\t', ' ', x'', x'20', x'2000', x'00', x'', x'', 'a', '', '{}', NULL, NULL)`,
  `(5, -1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.000000000000000000000000000001, 0.01, 1, 1.17549435e-38, 0.001, 1e-310, b'1', b'0000000001', b'1000000000000000000000000000000000000000000000000000000000000000', 1901, '2024-00-00', '100:00:00.000001', '-100:00:00', '2024-02-00 12:34:56.000001', '0000-01-01 00:00:00', '2024-02-29 12:34:56.001', '2000-01-01 00:00:00',
    'x', 'trailing  ', 'é ', 'ÿ', '😀', 'a\\nb', 'c', 'd', x'ff', x'ff00', x'0000', x'00ff', x'', x'', 'b c', 'z', '"s"', ST_GeomFromText('POLYGON((0 0, 1 0, 1 1, 0 0))'), NULL)`,
  `(6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.5, 0.5, -1, 1e-45, -0.001, 4.9e-324, b'0', b'0', b'0', 1970, '2024-02-30', '00:00:00.000001', '00:00:01', '2024-02-29 00:00:00', '2024-13-01 00:00:00', NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'null', NULL, NULL)`,
  `(7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0e0, 0, -0e0, b'0', b'0', b'0', 0, '2024-01-01', '00:00:00', '00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:00:00', NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
  `(8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.3, 0, 0.30000000000000004, b'0', b'0', b'0', 0, '2024-01-01', '00:00:00', '00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:00:00', NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`,
];
