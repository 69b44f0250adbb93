// One translation in progress: the statements so far, what was left out and why, the working
// copy of the target catalog, and the error for what cannot be translated.

import type { Ddl, TableRef } from "../binlog/ddl-model.ts";
import { ReplicateError } from "../errors.ts";
import type { TargetCatalog, TargetTable } from "./ddl-catalog.ts";
import { byteLength, fitName, MAX_IDENTIFIER_BYTES, sameName } from "./ddl-names.ts";
import { type ObjectRecord, sameObject, type SkippedObject, type UntranslatablePolicy } from "./ddl-skipped.ts";
import { looksShortened, quoteIdent, targetSchema } from "./identifiers.ts";
import type { TargetDialect } from "./types.ts";

export interface DdlContext {
  dialect: TargetDialect;
  schemaMapping: Record<string, string>;
  /** GTID and binlog position of the statement's transaction, for messages and --skip-ddl. */
  gtid: string | null;
  position: string;
  /** The target as it is before this statement: readTargetCatalog(sql, ddl, schemaMapping). */
  catalog: TargetCatalog;
  /** Source flavour: decides whether inline `col … REFERENCES t (c)` is a foreign key (MariaDB) or ignored (MySQL). */
  flavour?: "mysql" | "mariadb";
  /** When the source ran the statement (the event's timestamp, ms): MySQL fills existing rows of
   *  an added `TIMESTAMP DEFAULT CURRENT_TIMESTAMP` column with it. */
  eventTimeMs?: number;
  /** [sink] zero_date: with "null", temporal columns the translator makes take NULL (ddl-column.ts). */
  zeroDate?: "error" | "null";
  /** The source session's FOREIGN_KEY_CHECKS when it ran the statement (default on). With it
   *  off, as in schema dumps, a foreign key may name a table that is created later. */
  foreignKeyChecks?: boolean;
  /** [sink] untranslatable (ddl-objects.ts): "record" unless given. */
  untranslatable?: UntranslatablePolicy;
}

/** Part of a statement with no target statement; the sink logs each (warn) and goes on. */
export interface SkippedPart {
  part: string;
  reason: string;
  /** Set when the part is an object recorded in gs_replicate.skipped_objects. */
  object?: SkippedObject;
}

export interface DdlTranslation {
  /** Target statements, to run in order in one transaction. */
  statements: string[];
  skipped: SkippedPart[];
  /** What the sink logs (info) besides: names shortened to the target's limit, foreign keys
   *  waiting for their referenced table or created once it exists. */
  notes: string[];
  /** The target as it will be once the statements ran (the working copy): chains statements in tests and tools.
   *  Its `pending` foreign keys are what the sink keeps in its checkpoint afterwards. */
  catalog: TargetCatalog;
}

export class Translation {
  readonly statements: string[] = [];
  readonly skipped: SkippedPart[] = [];
  readonly notes: string[] = [];
  readonly catalog: TargetCatalog;
  /** Target name → the source name the statement gives it (tables and columns it creates or renames to). */
  readonly given = new Map<string, string>();

  constructor(
    /** The statement in target names (ddl-target-names.ts); `statement` is the source's text. */
    readonly ddl: Ddl,
    readonly ctx: DdlContext,
  ) {
    this.catalog = ctx.catalog.clone();
  }

  get dialect(): TargetDialect {
    return this.ctx.dialect;
  }

  emit(...sql: string[]): void {
    this.statements.push(...sql);
  }

  skip(part: string, reason: string): void {
    this.skipped.push({ part, reason });
  }

  /**
   * An object the target does not get (ddl-objects.ts): recorded in the working catalog's
   * objects and reported, or, under [sink] untranslatable = "stop", refused. `note` replaces
   * the report with an informational line, for a record that is not yet the object to act on
   * (a dump's stand-in view, which the dump replaces).
   */
  record(part: string, schema: string, rec: ObjectRecord, note?: string): void {
    if (this.ctx.untranslatable === "stop") {
      this.refuse(
        part,
        `${rec.reason}; [sink] untranslatable = "stop" stops at each object the target does not get (with "record", the rest of the statement is applied and the object is listed by gs-replicate check, with what to do at cutover: ${rec.cutover})`,
      );
    }
    const statement = this.ddl.statement.length > 500 ? `${this.ddl.statement.slice(0, 500)}…` : this.ddl.statement;
    const object: SkippedObject = { ...rec, schema, statement };
    this.catalog.objects = [...this.catalog.objects.filter((o) => !sameObject(o, object)), object];
    if (note === undefined) this.skipped.push({ part, reason: rec.reason, object });
    else this.note(`${part}: ${note}`);
  }

  /** Removes the records matching `key` (any table when `table` is undefined); whether there was one. */
  forget(key: Pick<SkippedObject, "kind" | "schema" | "name">, table: string | undefined): boolean {
    const match = (o: SkippedObject) => o.kind === key.kind && o.schema === key.schema && sameName(o.name, key.name) && (table === undefined || sameName(o.table, table));
    const before = this.catalog.objects.length;
    this.catalog.objects = this.catalog.objects.filter((o) => !match(o));
    return this.catalog.objects.length < before;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** The source's flavour (MySQL when not said). */
  get flavour(): "mysql" | "mariadb" {
    return this.ctx.flavour ?? "mysql";
  }

  get foreignKeyChecks(): boolean {
    return this.ctx.foreignKeyChecks !== false;
  }

  /**
   * The target name of a constraint, index or sequence named `name` on the source (or derived
   * from source names): `name` when it fits, else fitName's shortened form, which is noted so
   * the sink logs the mapping. Deterministic, so a later statement finds the object again.
   */
  targetName(what: string, name: string): string {
    const target = fitName(name);
    if (target !== name) this.note(`${what} is "${target}" on the target: "${name}" is longer than the target's ${MAX_IDENTIFIER_BYTES}-byte limit for names`);
    return target;
  }

  /** TARGET_DDL_INCOMPATIBLE: names the statement, the part, why, and what to do. */
  refuse(part: string, why: string): never {
    const ctx = this.ctx;
    const at = ctx.gtid ? `GTID ${ctx.gtid} (${ctx.position})` : ctx.position;
    const statement = this.ddl.statement.length > 300 ? `${this.ddl.statement.slice(0, 300)}…` : this.ddl.statement;
    throw new ReplicateError(
      "TARGET_DDL_INCOMPATIBLE",
      `DDL at ${at} cannot be translated for the ${ctx.dialect} target: ${part}: ${why}. Statement: ${statement}. ` +
        `Apply an equivalent change on the target by hand, then resume with: gs-replicate sink --config FILE --skip-ddl ${ctx.gtid ?? ctx.position}`,
      { where: ctx.gtid ?? ctx.position },
    );
  }

  /**
   * A target identifier, quoted; a name longer than the target allows is refused, not
   * truncated. Table and column names never are: they are mapped before (ddl-target-names.ts);
   * a schema name is the database's or the one [target] schema_mapping gives.
   */
  ident(name: string, what: string): string {
    if (byteLength(name) > MAX_IDENTIFIER_BYTES) {
      const fix = what === "schema" ? "map the database to a shorter schema name with [target] schema_mapping" : `rename it on the source to ${MAX_IDENTIFIER_BYTES} bytes or less`;
      this.refuse(`${what} ${name}`, `the name is ${byteLength(name)} bytes, longer than the target's limit of ${MAX_IDENTIFIER_BYTES}, and the target would cut it: ${fix}`);
    }
    return quoteIdent(name);
  }

  /**
   * Refuses to create `ref` over `existing`, a table the target has, when the name was
   * shortened or looks shortened: two source tables would share one target table and their
   * rows would merge. Without a shortening the target refuses the CREATE by itself.
   */
  notMerged(ref: TableRef, existing: TargetTable | undefined): void {
    const source = this.given.get(ref.table) ?? ref.table;
    if (!existing || (source === ref.table && !looksShortened(ref.table))) return;
    const why =
      source !== ref.table
        ? `"${source}" is longer than the target's ${MAX_IDENTIFIER_BYTES} bytes and is "${ref.table}" there`
        : `"${ref.table}" has the form of a shortened name`;
    this.refuse(
      `table ${ref.database}.${source}`,
      `${why}, and the target has a table of that name already (schema ${existing.schema}), so two source tables would share one target table and their rows would merge: ` +
        `rename one of the two tables on the source (or drop the target's table if nothing on the source maps to it any more)`,
    );
  }

  schemaName(database: string): string {
    return targetSchema(database, this.ctx.schemaMapping);
  }

  /** The working copy of a table, when the target has it. */
  current(ref: TableRef): TargetTable | undefined {
    return this.catalog.table(this.schemaName(ref.database), ref.table);
  }

  /** The working copy of a table the statement needs to exist on the target. */
  existing(ref: TableRef): TargetTable {
    const t = this.current(ref);
    if (!t) this.refuse(`table ${ref.database}.${ref.table}`, `it does not exist on the target (schema ${this.schemaName(ref.database)})`);
    return t;
  }

  /** "schema"."table" for a table the target has (its target spelling) or will have. */
  qualified(ref: TableRef): string {
    const t = this.current(ref);
    return `${this.ident(this.schemaName(ref.database), "schema")}.${this.ident(t?.name ?? ref.table, "table")}`;
  }

  qualifiedName(schema: string, name: string): string {
    return `${quoteIdent(schema)}.${quoteIdent(name)}`;
  }
}
