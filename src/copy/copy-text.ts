// One row as a line of PostgreSQL's COPY text format, from the values the sink would have had
// for it (src/copy/rows.ts), converted by the sink's own toParam (src/dialect/values.ts): the
// zero-date policy, the NUL refusal and every value's text are the sink's, so COPY stores what
// the sink's statements store. Each field is the text the sink sends as an untyped literal
// (src/sink/batch.ts literal), which the server reads with the column's input function in
// both cases; only COPY's escaping differs.
//
// Numbers: toParam gives FLOAT as the float32 widened to a double and DOUBLE as itself;
// String() prints the shortest text that reads back as that double, and a float4 column rounds
// the widened value back to the same float32 (both targets; test/copy/rows.test.ts). MySQL
// stores no infinity or NaN. A FLOAT can hold -0.0 (after an underflow): String(-0) is "0",
// as in the sink's literal, so both store 0 (keeping the sign would change both together).

import type { BinlogValue } from "../binlog/types.ts";
import type { Descriptor } from "../events/values.ts";
import { toParam, type ValueContext } from "../dialect/values.ts";

/** Backslash, tab, newline and carriage return are COPY's delimiters and escapes; other characters go as they are. */
const SPECIAL = /[\\\t\n\r]/g;
/** The same set, tested first: most values hold none, and a test is cheaper than a replace with a callback. */
const HAS_SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };

export function copyText(descriptors: Descriptor[], values: BinlogValue[], ctx: ValueContext, inKey: boolean[], where: () => string): string {
  let line = "";
  for (let i = 0; i < descriptors.length; i++) {
    const p = toParam(descriptors[i]!, values[i] ?? null, ctx, where, inKey[i] ?? false);
    if (i > 0) line += "\t";
    if (p === null) line += "\\N";
    else if (typeof p === "number") line += String(p);
    // bytea's hex input \x…, its backslash escaped for COPY.
    else if (typeof p !== "string") line += `\\\\x${p.toString("hex")}`;
    else line += HAS_SPECIAL.test(p) ? p.replace(SPECIAL, (ch) => ESCAPES[ch]!) : p;
  }
  return `${line}\n`;
}
