// A transaction whose rows the source wrote with FOREIGN_KEY_CHECKS=0 (a dump's data, an
// operator's repair), applied as MySQL applied it: no foreign key checked, none cascaded.
// The target has no such session switch for a non-superuser (session_replication_role needs
// one), and deferring the keys would still check them at COMMIT. So, inside the unit's own
// target transaction, the foreign keys its rows would meet are dropped, the rows applied, and
// the keys added back NOT VALID (existing rows unchecked, as MySQL left them; new rows are
// checked again). The target's DDL is transactional: a failure or crash leaves the keys as
// they were, and nobody sees the table without them. Tables linked by foreign keys serialise
// as one scheduler group (catalog.ts), so no other worker holds these tables meanwhile.
//
// Which keys:
//   "all"       every key on a table the rows insert into or update (child side) and every key
//               referencing a table they update or delete from (parent side); used once the
//               checked form failed on a foreign key (SQLSTATE 23503)
//   "cascades"  only the parent-side keys with a cascading action (CASCADE, SET NULL, SET
//               DEFAULT): the checked form would not fail there, it would silently change
//               child rows the source kept. Used from the start for such transactions.

import type { ChangeMessage } from "../events/decode.ts";
import { qualifiedTable, quoteIdent } from "../dialect/identifiers.ts";
import type { SinkTx, TxItem } from "./assembler.ts";
import { applyChanges, type ApplyContext, type Pending, type Runner } from "./apply.ts";

export type UncheckedScope = "all" | "cascades";

/** A foreign key taken off for the rows and put back NOT VALID. */
export interface RelaxedKey {
  name: string;
  table: string;
}

/** The transaction's rows were written with FOREIGN_KEY_CHECKS=0 and it deletes or updates rows (parents whose keys may cascade). */
export function needsUncheckedParents(tx: SinkTx): boolean {
  return !tx.end.foreignKeyChecks && tx.items.some((i) => i.kind === "change" && i.op !== "c");
}

/** What the log says of a transaction applied without some keys. */
export function uncheckedNote(describe: string, relaxed: readonly RelaxedKey[]): string {
  return (
    `${describe}: its rows were written with FOREIGN_KEY_CHECKS=0, so they were applied as MySQL applied them, without checking or cascading foreign key(s) ${relaxed.map((k) => `${k.name} of ${k.table}`).join(", ")}; ` +
    `the key(s) stay, NOT VALID (rows written later are checked; gs-replicate check lists them)`
  );
}

const CASCADING = new Set(["c", "n", "d"]);

/**
 * Applies `items` after `lead` (BEGIN, the checkpoint rows) without the foreign keys of
 * `scope`, and puts them back; the caller commits. Returns the keys taken off.
 */
export async function applyUnchecked(sql: Runner, items: TxItem[], ctx: ApplyContext, lead: Pending[], scope: UncheckedScope): Promise<RelaxedKey[]> {
  await Promise.all(lead);
  const keys = new UncheckedKeys(scope);
  await keys.takeOff(sql, items, ctx);
  await applyChanges(sql, items, ctx);
  return keys.putBack(sql);
}

/**
 * The keys taken off in one target transaction. A streamed transaction (large.ts) takes off
 * the keys of each chunk's tables as they come, and puts all of them back before its COMMIT.
 */
export class UncheckedKeys {
  private readonly seen = new Set<string>();
  private readonly taken: Array<{ name: string; schema: string; table: string; def: string }> = [];

  constructor(private readonly scope: UncheckedScope) {}

  /** Drops the keys of `scope` that `items` would meet and that are not off yet. */
  async takeOff(sql: Runner, items: TxItem[], ctx: ApplyContext): Promise<void> {
    const children = new Set<string>();
    const parents = new Set<string>();
    for (const i of items) {
      if (i.kind !== "change") continue;
      const t = (i as ChangeMessage).table;
      const name = qualifiedTable(t.database, t.table, ctx.schemaMapping);
      if (i.op !== "d" && !this.seen.has(`c ${name}`)) children.add(name);
      if (i.op !== "c" && !this.seen.has(`p ${name}`)) parents.add(name);
    }
    if (children.size === 0 && parents.size === 0) return;
    for (const n of children) this.seen.add(`c ${n}`);
    for (const n of parents) this.seen.add(`p ${n}`);
    const keys = await sql.unsafe(
      `SELECT k.conname AS name, n.nspname AS s, c.relname AS t, pg_get_constraintdef(k.oid) AS def,
              k.confdeltype::text AS del, k.confupdtype::text AS upd,
              k.confrelid IN (SELECT x::regclass FROM unnest($2::text[]) AS x) AS parent_side
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE k.contype = 'f'
          AND (k.conrelid IN (SELECT x::regclass FROM unnest($1::text[]) AS x) OR k.confrelid IN (SELECT x::regclass FROM unnest($2::text[]) AS x))
        ORDER BY 2, 3, 1`,
      [[...children], [...parents]],
    );
    for (const k of keys) {
      if (this.scope === "cascades" && !(k.parent_side === true && (CASCADING.has(k.del as string) || CASCADING.has(k.upd as string)))) continue;
      const key = { name: k.name as string, schema: k.s as string, table: k.t as string, def: k.def as string };
      if (this.taken.some((x) => x.name === key.name && x.schema === key.schema && x.table === key.table)) continue;
      await sql.unsafe(`ALTER TABLE ${quoteIdent(key.schema)}.${quoteIdent(key.table)} DROP CONSTRAINT ${quoteIdent(key.name)}`);
      this.taken.push(key);
    }
  }

  /** Adds the keys back NOT VALID; returns them. */
  async putBack(sql: Runner): Promise<RelaxedKey[]> {
    for (const k of this.taken) {
      // pg_get_constraintdef ends a key that was already NOT VALID with those words.
      const def = k.def.replace(/\s+NOT VALID$/, "");
      await sql.unsafe(`ALTER TABLE ${quoteIdent(k.schema)}.${quoteIdent(k.table)} ADD CONSTRAINT ${quoteIdent(k.name)} ${def} NOT VALID`);
    }
    return this.taken.map((k) => ({ name: k.name, table: `${k.schema}.${k.table}` }));
  }
}
