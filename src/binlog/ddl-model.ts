// The structured change model for MySQL/MariaDB DDL (produced by parseDdl in ddl.ts).
// Shared by the schema history (src/binlog/schema.ts) and, later, the sink's DDL translator,
// so it keeps what was WRITTEN: names in their original case, literals decoded, expression
// text as the server read it. Effective values (the charset a column ends up with, its
// nullability under PRIMARY KEY, ...) are for consumers to derive; ddl-apply.ts does that
// for the schema history.

export interface TableRef {
  database: string;
  table: string;
}

/** A column type as written, with synonyms resolved (INTEGER → int, BOOL → tinyint(1), ...). */
export interface ColumnType {
  /** Lower-case MySQL type name: tinyint smallint mediumint int bigint decimal float double bit
   *  date time datetime timestamp year char varchar binary varbinary tinytext text mediumtext
   *  longtext tinyblob blob mediumblob longblob enum set json geometry point linestring polygon
   *  multipoint multilinestring multipolygon geometrycollection vector uuid inet4 inet6 */
  name: string;
  /** Display width (integers), characters (char/varchar/text(M)), bytes (binary/varbinary/blob(M)), bits (bit), dimensions (vector). */
  length?: number;
  /** decimal(M,D) / float(M,D) / double(M,D): M and D. */
  precision?: number;
  scale?: number;
  /** Fractional seconds digits of time/datetime/timestamp. */
  fsp?: number;
  unsigned: boolean;
  zerofill: boolean;
  /** Character set / collation: as written on the column in a parsed DDL (lower case),
   *  effective in the schema history's table definitions. "binary" for byte strings there. */
  charset?: string;
  collation?: string;
  /** CHAR(n) BINARY / ASCII / UNICODE attribute: the _bin collation of the column charset. */
  binaryCollation?: boolean;
  /** ENUM / SET members, unescaped. */
  values?: string[];
}

export type DefaultValue =
  | { kind: "null" }
  | { kind: "string"; value: string; introducer?: string }
  | { kind: "number"; text: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "hex"; digits: string }
  | { kind: "bit"; digits: string }
  | { kind: "current_timestamp"; fsp: number }
  /** Any other expression, e.g. (uuid()) or CURRENT_DATE: its text without the outer parentheses. */
  | { kind: "expression"; text: string };

export interface ForeignKeyTarget {
  table: TableRef;
  columns: string[];
  onDelete?: string;
  onUpdate?: string;
  match?: string;
}

export interface ColumnDef {
  name: string;
  type: ColumnType;
  /** true for an explicit NULL, false for NOT NULL, undefined when not written. */
  nullable?: boolean;
  default?: DefaultValue;
  autoIncrement: boolean;
  /** ON UPDATE CURRENT_TIMESTAMP(fsp). */
  onUpdate?: { fsp: number };
  comment?: string;
  /** [GENERATED ALWAYS] AS (expression) VIRTUAL | STORED (MariaDB PERSISTENT = stored). */
  generated?: { expression: string; stored: boolean };
  invisible: boolean;
  /** MariaDB COMPRESSED column attribute (logged under its own binlog type codes). */
  compressed?: boolean;
  srid?: number;
  references?: ForeignKeyTarget;
}

export type KeyPart = { column: string; length?: number; descending?: boolean } | { expression: string; descending?: boolean };

export type IndexKind = "primary" | "unique" | "index" | "fulltext" | "spatial";

export interface IndexDef {
  /** Index name; "PRIMARY" for the primary key; undefined when the server picks it. */
  name?: string;
  kind: IndexKind;
  parts: KeyPart[];
  /** CONSTRAINT symbol written before PRIMARY KEY / UNIQUE. */
  constraint?: string;
  using?: string;
  comment?: string;
  invisible?: boolean;
}

export interface ForeignKeyDef {
  name?: string;
  columns: string[];
  target: ForeignKeyTarget;
}

export interface CheckDef {
  name?: string;
  expression: string;
  enforced: boolean;
  /** The column whose definition holds it (MariaDB names an unnamed one after the column). */
  column?: string;
}

export interface TableOptions {
  engine?: string;
  /** Lower case; "default" for CHARSET=DEFAULT (the database default). */
  charset?: string;
  collation?: string;
  comment?: string;
  autoIncrement?: string;
  rowFormat?: string;
  /** Every other option, as written: name upper-cased, value text. */
  other: Array<{ name: string; value: string }>;
}

export type ColumnPosition = { first: true } | { after: string };

export type AlterOp =
  | { op: "add_column"; column: ColumnDef; position?: ColumnPosition; ifNotExists: boolean }
  | { op: "drop_column"; name: string; ifExists: boolean }
  | { op: "modify_column"; column: ColumnDef; position?: ColumnPosition; ifExists: boolean }
  | { op: "change_column"; oldName: string; column: ColumnDef; position?: ColumnPosition; ifExists: boolean }
  | { op: "rename_column"; from: string; to: string }
  /** SET DEFAULT (default given) or DROP DEFAULT (default undefined). */
  | { op: "alter_column_default"; name: string; default?: DefaultValue }
  | { op: "alter_column_visibility"; name: string; invisible: boolean }
  | { op: "add_index"; index: IndexDef; ifNotExists: boolean }
  | { op: "add_unique"; index: IndexDef; ifNotExists: boolean }
  | { op: "add_primary_key"; index: IndexDef }
  | { op: "drop_index"; name: string; ifExists: boolean }
  | { op: "drop_primary_key" }
  | { op: "rename_index"; from: string; to: string }
  | { op: "add_foreign_key"; foreignKey: ForeignKeyDef; ifNotExists: boolean }
  | { op: "drop_foreign_key"; name: string; ifExists: boolean }
  | { op: "add_check"; check: CheckDef }
  /** DROP CHECK / DROP CONSTRAINT: a check, and on MySQL 8.0.19+ / MariaDB also a unique or foreign key. */
  | { op: "drop_constraint"; name: string; ifExists: boolean; check: boolean }
  | { op: "rename_table"; to: TableRef }
  /** CONVERT TO CHARACTER SET: every character column and the table default. */
  | { op: "convert_charset"; charset: string; collation?: string }
  | { op: "table_options"; options: TableOptions }
  /** Understood and without effect on columns or keys (ORDER BY, FORCE, partition maintenance, ...). */
  | { op: "other"; text: string }
  /** Not understood: consumers must not assume the table shape is unchanged. */
  | { op: "unsupported"; text: string; reason: string };

interface Base {
  statement: string;
}

export interface CreateDatabase extends Base {
  kind: "create_database";
  name: string;
  ifNotExists: boolean;
  orReplace: boolean;
  charset?: string;
  collation?: string;
}
export interface AlterDatabase extends Base {
  kind: "alter_database";
  name: string;
  charset?: string;
  collation?: string;
}
export interface DropDatabase extends Base {
  kind: "drop_database";
  name: string;
  ifExists: boolean;
}
export interface CreateTable extends Base {
  kind: "create_table";
  table: TableRef;
  temporary: boolean;
  ifNotExists: boolean;
  orReplace: boolean;
  columns: ColumnDef[];
  /** Out-of-line PRIMARY KEY or a column's inline PRIMARY KEY / KEY. */
  primaryKey?: IndexDef;
  /** Every other index, unique ones (kind "unique") included; inline UNIQUE is named after its column. */
  indexes: IndexDef[];
  foreignKeys: ForeignKeyDef[];
  checks: CheckDef[];
  options: TableOptions;
  /** PARTITION BY ... as written. */
  partitioning?: string;
}
export interface CreateTableLike extends Base {
  kind: "create_table_like";
  table: TableRef;
  like: TableRef;
  temporary: boolean;
  ifNotExists: boolean;
  orReplace: boolean;
}
export interface AlterTable extends Base {
  kind: "alter_table";
  table: TableRef;
  ifExists: boolean;
  online: boolean;
  ignore: boolean;
  ops: AlterOp[];
  /** ALGORITHM= / LOCK= clauses (upper case), which never change the result. */
  algorithm?: string;
  lock?: string;
  partitioning?: string;
}
export interface RenameTable extends Base {
  kind: "rename_table";
  /** Applied in order: RENAME TABLE a TO tmp, b TO a, tmp TO b swaps a and b. */
  renames: Array<{ from: TableRef; to: TableRef }>;
  ifExists: boolean;
}
export interface DropTable extends Base {
  kind: "drop_table";
  tables: TableRef[];
  ifExists: boolean;
  temporary: boolean;
}
export interface TruncateTable extends Base {
  kind: "truncate_table";
  table: TableRef;
}
export interface CreateIndex extends Base {
  kind: "create_index";
  table: TableRef;
  index: IndexDef;
  ifNotExists: boolean;
  orReplace: boolean;
  algorithm?: string;
  lock?: string;
}
export interface DropIndex extends Base {
  kind: "drop_index";
  table: TableRef;
  /** "PRIMARY" (any case) drops the primary key. */
  name: string;
  ifExists: boolean;
}
/** DDL that does not change any table's columns or keys (users, grants, views, routines, ...). */
export interface OtherDdl extends Base {
  kind: "other";
  /** Leading keywords, e.g. "CREATE VIEW", "GRANT". */
  what: string;
  /** For a view, trigger, routine or event: what it names, when the names were read. */
  object?: CodeObject;
}
export type CodeObjectType = "VIEW" | "TRIGGER" | "PROCEDURE" | "FUNCTION" | "EVENT" | "PACKAGE" | "PACKAGE BODY";
export interface CodeObject {
  type: CodeObjectType;
  /** The objects named, in their database (DROP VIEW a, b names two). */
  names: TableRef[];
  /** CREATE TRIGGER … ON table: the table it fires on. */
  table?: TableRef;
  /** ALTER EVENT … RENAME TO / ALTER VIEW is not a rename: only events rename themselves. */
  renameTo?: TableRef;
}
/** DDL this parser does not understand. */
export interface UnparsedDdl extends Base {
  kind: "unparsed";
  reason: string;
  /** The tables the statement is about, when its head was read; undefined when unknown. */
  tables?: TableRef[];
}

export type Ddl =
  | CreateDatabase
  | AlterDatabase
  | DropDatabase
  | CreateTable
  | CreateTableLike
  | AlterTable
  | RenameTable
  | DropTable
  | TruncateTable
  | CreateIndex
  | DropIndex
  | OtherDdl
  | UnparsedDdl;
