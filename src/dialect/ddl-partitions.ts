// MySQL partitions as row sets, so that DROP/TRUNCATE PARTITION, which MySQL logs as a
// statement and not as the rows it deletes, can be applied exactly to the plain target table
// as a DELETE of the same rows. Exact only where the partition of a row is plain arithmetic:
//   RANGE (col)  integer bounds or MAXVALUE: partition i holds b(i-1) <= col < b(i); the first
//                also holds NULL (MySQL sorts NULL below every value)
//   LIST (col)   integer values (and NULL): col IN (…)
// on an integer column of the target. Anything else (expressions such as YEAR(d), COLUMNS
// partitioning with its collations, HASH/KEY with MySQL's hash functions, subpartitions) has no
// definition here, and a statement deleting its rows stops the sink (ddl-alter.ts).

import { cursorFor, type Cursor, DdlSyntaxError } from "../binlog/ddl-lexer.ts";
import { targetIdent } from "./identifiers.ts";

export type PartitionDef = { name: string; below: string | "MAXVALUE" } | { name: string; values: Array<string | null> };

export interface Partitioning {
  method: "RANGE" | "LIST";
  column: string;
  partitions: PartitionDef[];
}

function attempt<T>(sql: string, f: (c: Cursor) => T): T | undefined {
  try {
    const c = cursorFor(sql);
    const out = f(c);
    return c.atEnd() ? out : undefined;
  } catch (err) {
    if (err instanceof DdlSyntaxError) return undefined;
    throw err;
  }
}

/** `PARTITION BY RANGE|LIST (col) (PARTITION … , …)`; undefined when not exact (file comment). */
export function parsePartitioning(clause: string): Partitioning | undefined {
  return attempt(clause, (c) => {
    c.expectWord("PARTITION");
    c.expectWord("BY");
    const method = c.expectWord("RANGE", "LIST") as "RANGE" | "LIST";
    c.expectPunct("(");
    const column = c.ident();
    c.expectPunct(")");
    return { method, column, partitions: definitions(c, method) };
  });
}

/** `(PARTITION p VALUES …, …)` of ADD PARTITION or REORGANIZE … INTO, for a table partitioned by `method`. */
export function parseDefinitions(text: string, method: "RANGE" | "LIST"): PartitionDef[] | undefined {
  return attempt(text, (c) => definitions(c, method));
}

function definitions(c: Cursor, method: "RANGE" | "LIST"): PartitionDef[] {
  const out: PartitionDef[] = [];
  c.expectPunct("(");
  do {
    c.expectWord("PARTITION");
    const name = c.ident();
    c.expectWord("VALUES");
    if (method === "RANGE") {
      c.expectWord("LESS");
      c.expectWord("THAN");
      if (c.eatWord("MAXVALUE")) out.push({ name, below: "MAXVALUE" });
      else {
        c.expectPunct("(");
        out.push({ name, below: c.eatWord("MAXVALUE") ? "MAXVALUE" : integer(c) });
        c.expectPunct(")");
      }
    } else {
      c.expectWord("IN");
      c.expectPunct("(");
      const values: Array<string | null> = [];
      do values.push(c.eatWord("NULL") ? null : integer(c));
      while (c.eatPunct(","));
      c.expectPunct(")");
      out.push({ name, values });
    }
    // ENGINE = InnoDB, COMMENT, DATA DIRECTORY…: where MySQL stores the rows, not which.
    while (!c.atEnd() && !c.isPunct(",") && !c.isPunct(")")) {
      if (c.isWord("SUBPARTITION") || c.isPunct("(")) throw new DdlSyntaxError("subpartitions");
      c.next();
    }
  } while (c.eatPunct(","));
  c.expectPunct(")");
  return out;
}

function integer(c: Cursor): string {
  const minus = c.eatPunct("-");
  const t = c.next();
  if (t.kind !== "number" || !/^\d+$/.test(t.text)) throw new DdlSyntaxError("not an integer literal");
  return `${minus ? "-" : ""}${t.text}`;
}

/** The rows of the named partitions (undefined: a name the definition lacks), as a WHERE condition. */
export function partitionCondition(p: Partitioning, names: string[] | "ALL"): string | undefined {
  const col = targetIdent(p.column);
  const picked = names === "ALL" ? p.partitions : names.map((n) => p.partitions.find((d) => d.name.toLowerCase() === n.toLowerCase()));
  if (picked.some((d) => d === undefined)) return undefined;
  const parts = (picked as PartitionDef[]).map((d) => {
    if ("values" in d) {
      const ints = d.values.filter((v): v is string => v !== null);
      const any = [...(ints.length > 0 ? [`${col} IN (${ints.join(", ")})`] : []), ...(d.values.includes(null) ? [`${col} IS NULL`] : [])];
      return any.length > 0 ? `(${any.join(" OR ")})` : "false";
    }
    const i = p.partitions.indexOf(d);
    const prev = p.partitions[i - 1];
    const lower = prev && "below" in prev ? prev.below : undefined;
    const low = lower === undefined ? `${col} IS NULL` : lower === "MAXVALUE" ? "false" : `${col} >= ${lower}`;
    const high = d.below === "MAXVALUE" ? "true" : `${col} < ${d.below}`;
    return lower === undefined ? `(${low} OR ${high})` : `(${low} AND ${high})`;
  });
  return parts.join(" OR ");
}
