// MySQL values (the binlog layer's exact forms) → parameters for the target's statements.
// Strings are sent untyped, so the server parses them with the column's own type: numeric
// text into NUMERIC exactly, timestamps with their time zone, and so on.

import { ReplicateError } from "../errors.ts";
import type { BinlogValue } from "../binlog/types.ts";
import type { Descriptor } from "../events/values.ts";

export type Param = string | number | Buffer | null;

export interface ValueContext {
  /** What a MySQL zero or invalid date becomes: an error naming the row (default), or NULL. */
  zeroDate: "error" | "null";
}

/**
 * `inKey`: the column is part of the target table's primary key, which cannot hold NULL; there
 * the all-zero date becomes -infinity (below).
 */
export function toParam(d: Descriptor, v: BinlogValue, ctx: ValueContext, where: () => string, inKey = false): Param {
  if (v === null) return null;
  switch (d.k) {
    case "int":
    case "uint32":
    case "year":
    case "float":
    case "double":
      return v as number;
    case "int64":
    case "uint64":
      return (v as bigint).toString();
    case "decimal":
      return v as string;
    case "bit":
      return bitString(v as Uint8Array, d.bits ?? 1);
    case "date":
    case "datetime":
      return validTemporal(v as string) ? (v as string) : zero(v as string, ctx, where, inKey);
    case "timestamp":
      return validTemporal(v as string) ? `${v as string}+00` : zero(v as string, ctx, where, inKey);
    case "time":
      return v as string;
    case "string":
      if ((v as string).includes("\u0000")) {
        throw new ReplicateError("TARGET_DATA", `a text value contains a NUL character, which the target cannot store (${where()})`, {
          where: where(),
        });
      }
      return v as string;
    case "bytes":
      return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength);
  }
}

function bitString(bytes: Uint8Array, bits: number): string {
  let s = "";
  for (const b of bytes) s += b.toString(2).padStart(8, "0");
  return s.slice(s.length - bits);
}

/** Zero parts (0000-00-00, 2024-00-10) or impossible days (02-30) are not dates on the target. */
function validTemporal(v: string): boolean {
  const y = Number(v.slice(0, 4));
  const m = Number(v.slice(5, 7));
  const d = Number(v.slice(8, 10));
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(2000, m, 0)).getUTCDate() && !(m === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)));
}

/** MySQL's zero date: '0000-00-00', or a DATETIME/TIMESTAMP whose every part is zero. */
const ALL_ZERO_DATE = /^0000-00-00(?: 00:00:00(?:\.0+)?)?$/;

/**
 * What the target stores for the all-zero date in a primary-key column under zero_date = "null".
 * Both targets take it for date, timestamp and timestamptz, and it sorts before every date, as
 * MySQL's zero date does; check --data reads it back as the zero date (check/canonical.ts).
 */
export const KEY_ZERO_DATE = "-infinity";

function zero(v: string, ctx: ValueContext, where: () => string, inKey: boolean): Param {
  const allZero = ALL_ZERO_DATE.test(v);
  if (inKey && !allZero) {
    // No target value stands for it, and NULL cannot be in a key: nothing the sink or the
    // operator sets on the target lets this row in, and the row is already in the log.
    throw new ReplicateError(
      "TARGET_DATA",
      `MySQL invalid date '${v}' in primary-key column ${where()}: the target has no such date, and a primary key cannot hold NULL (under [sink] zero_date = "null" only the all-zero date has a key value, -infinity). The row is in the log, so the sink stops here on every restart: correct the key on the source (UPDATE the row to a valid date), then start a fresh migration (docs/faults.md: a new full copy taken after the correction, an empty checkpoint, a new log from the copy's position)`,
      { where: where() },
    );
  }
  if (ctx.zeroDate === "null") return inKey ? KEY_ZERO_DATE : null;
  const stored = inKey
    ? "as -infinity, which sorts first like the zero date (this column is in the target's primary key)"
    : "as NULL (a target column made by hand must then allow NULL: ALTER TABLE … ALTER COLUMN … DROP NOT NULL; columns the sink creates do)";
  throw new ReplicateError(
    "TARGET_DATA",
    `MySQL zero or invalid date '${v}' has no equivalent on the target (${where()}); the row is already in the log: set [sink] zero_date = "null" and restart the sink, which stores it ${stored}`,
    { where: where() },
  );
}
