// Reads one TOML file, validates it against SCHEMA, fills defaults, resolves secrets, and
// returns a typed Config. Every mistake is a ReplicateError of kind "config" (exit 2) whose
// message names the file, the key, what was expected and what was found. Secret values are
// wrapped in Secret so that printing a config can never reveal them.

import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { parse, TomlError } from "smol-toml";
import { ReplicateError, type ErrorCode } from "../errors.ts";
import { AVRO_NAME, NEEDS, SCHEMA, type KeySpec } from "./schema.ts";
import type { Config, TlsConfig } from "./types.ts";
import { checkTls } from "./tls.ts";
import { Secret } from "./secret.ts";
import { parseStart, START_FORMS } from "./start.ts";
import { isLoopback, parseListen } from "./listen.ts";

/** Target schemas a database must not be mapped onto: the server's own and the checkpoint's. */
const RESERVED_SCHEMA = /^(gs_replicate|gs_replicate_guard|pg_.*|information_schema)$/;

type Table = Record<string, unknown>;
export type Command = keyof typeof NEEDS;

interface LoadResult {
  config: Config;
  /** Non-fatal findings (e.g. a world-readable password_file) for the caller to log. */
  warnings: string[];
}

export interface LoadOptions {
  /** `source --stdout` publishes nothing, so it needs no [transport]. */
  stdout?: boolean;
}

/** A configuration is a few kilobytes; reading stops past this (--config /dev/zero must not hang). */
const MAX_CONFIG_BYTES = 1 << 20;

export function loadConfig(path: string, command: Command, opts: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = readBounded(path, MAX_CONFIG_BYTES);
  } catch (cause) {
    throw fail("CONFIG_UNREADABLE", path, undefined, `cannot read the configuration file: ${(cause as Error).message}`, cause);
  }
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (cause) {
    const where = cause instanceof TomlError ? ` at line ${cause.line}, column ${cause.column}` : "";
    const first = (cause as Error).message.split("\n")[0];
    throw fail("CONFIG_SYNTAX", path, undefined, `invalid TOML${where}: ${first}`, cause);
  }
  return validate(doc, path, command, opts);
}

/** The file's text, read in chunks (a pipe such as <(envsubst …) works too); throws past `limit` bytes. */
function readBounded(path: string, limit: number): string {
  const fd = openSync(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw new Error(`it is larger than ${limit >> 20} MiB, which no configuration is (is it the right file?)`);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks).toString("utf8");
  } finally {
    closeSync(fd);
  }
}

export function validate(doc: Table, file: string, command: Command, opts: LoadOptions = {}): LoadResult {
  const warnings: string[] = [];
  const out: Record<string, Table> = {};
  checkUnknown(doc, "", file);
  for (const [section, spec] of Object.entries(SCHEMA)) {
    const raw = lookup(doc, section);
    const needs = (NEEDS[command] as readonly string[]).filter((n) => !(opts.stdout && n === "transport"));
    const needed = needs.includes(section) || sectionNeededByChoice(doc, section);
    if (raw === undefined) {
      if (needed) throw fail("CONFIG_MISSING_KEY", file, section, `section [${section}] is required for "${command}"`);
      continue;
    }
    if (!isTable(raw)) throw fail("CONFIG_WRONG_TYPE", file, section, `expected a table [${section}], found ${describe(raw)}`);
    const values: Table = {};
    for (const [key, keySpec] of Object.entries(spec.keys)) {
      const v = raw[key];
      if (v === undefined) {
        if (keySpec.required) throw fail("CONFIG_MISSING_KEY", file, `${section}.${key}`, `required key is missing (${keySpec.doc})`);
        if (keySpec.default !== undefined) values[key] = structuredClone(keySpec.default);
        continue;
      }
      values[key] = checkType(v, keySpec, file, `${section}.${key}`);
    }
    if ("password" in spec.keys) values.password = resolvePassword(values, file, section, warnings);
    if (section === "source.tls" || section === "target.tls") {
      const problem = checkTls(values as unknown as TlsConfig, section, warnings, file);
      if (problem) throw fail("CONFIG_BAD_VALUE", file, problem.key, problem.message);
    }
    if (section === "source" && parseStart(String(values.start)) === undefined) {
      throw fail("CONFIG_BAD_VALUE", file, "source.start", `expected ${START_FORMS}, found ${describe(values.start)}`);
    }
    if (section === "source" && typeof values.server_name === "string" && !AVRO_NAME.test(values.server_name)) {
      throw fail(
        "CONFIG_BAD_VALUE",
        file,
        "source.server_name",
        `${describe(values.server_name)} breaks the AVRO naming rule [A-Za-z_][A-Za-z0-9_]*, and it begins every schema name in the log`,
      );
    }
    if (section === "metrics") {
      const at = parseListen(String(values.listen));
      if (!at) throw fail("CONFIG_BAD_VALUE", file, "metrics.listen", `expected "host:port", "[ipv6]:port" or ":port", found ${describe(values.listen)}`);
      if (!isLoopback(at.host)) {
        warnings.push(
          `${file}: [metrics] listen = ${JSON.stringify(values.listen)} is not a loopback address: metrics (positions, counts, error codes) are served without authentication to anyone who can reach it; firewall it, or listen on 127.0.0.1 behind a proxy`,
        );
      }
    }
    if (section === "target") {
      for (const [db, schema] of Object.entries((values.schema_mapping ?? {}) as Record<string, string>)) {
        if (RESERVED_SCHEMA.test(schema)) {
          throw fail(
            "CONFIG_BAD_VALUE",
            file,
            "target.schema_mapping",
            `database ${db} is mapped to schema ${schema}, which belongs to the target or to gs-replicate's checkpoint: map it to a schema of its own`,
          );
        }
      }
    }
    out[section] = values;
  }
  return { config: assemble(out), warnings };
}

/** [transport.journal] is needed when kind = journal, [transport.kafka] when kind = kafka. */
function sectionNeededByChoice(doc: Table, section: string): boolean {
  const transport = lookup(doc, "transport");
  if (!isTable(transport)) return false;
  const kind = transport.kind ?? "journal";
  return section === `transport.${kind}`;
}

function checkUnknown(doc: Table, prefix: string, file: string): void {
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (path in SCHEMA) {
      if (!isTable(value)) continue;
      for (const [inner, v] of Object.entries(value)) {
        const innerPath = `${path}.${inner}`;
        if (innerPath in SCHEMA) {
          checkUnknown({ [inner]: v }, path, file);
        } else if (!(inner in SCHEMA[path]!.keys)) {
          const candidates = [...Object.keys(SCHEMA[path]!.keys).map((k) => `${path}.${k}`), ...Object.keys(SCHEMA).filter((s) => s.startsWith(`${path}.`))];
          throw unknown(file, innerPath, candidates);
        }
      }
    } else {
      throw unknown(
        file,
        path,
        Object.keys(SCHEMA).filter((s) => !s.includes(".") || s.startsWith(prefix)),
      );
    }
  }
}

function unknown(file: string, path: string, candidates: string[]): ReplicateError {
  const best = closest(path, candidates);
  return fail("CONFIG_UNKNOWN_KEY", file, path, `unknown key${best ? `; did you mean "${best}"?` : ""}`);
}

function checkType(v: unknown, spec: KeySpec, file: string, key: string): unknown {
  const t = spec.type;
  const found = spec.secret ? "(hidden)" : describe(v);
  const wrong = (expected: string) => fail("CONFIG_WRONG_TYPE", file, key, `expected ${expected}, found ${found}`);
  switch (t.t) {
    case "string":
      if (typeof v !== "string") throw wrong("a string");
      if (v === "" && !spec.secret) throw fail("CONFIG_BAD_VALUE", file, key, "expected a non-empty string, found an empty one");
      return v;
    case "bool":
      if (typeof v !== "boolean") throw wrong("true or false");
      return v;
    case "int": {
      if (typeof v !== "number" || !Number.isInteger(v)) throw wrong("an integer");
      if ((t.min !== undefined && v < t.min) || (t.max !== undefined && v > t.max)) {
        throw fail("CONFIG_BAD_VALUE", file, key, `expected an integer from ${t.min} to ${t.max}, found ${v}`);
      }
      return v;
    }
    case "strings":
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw wrong("a list of strings");
      return v;
    case "enum":
      if (typeof v !== "string" || !t.values.includes(v)) {
        const best = typeof v === "string" ? closest(v, [...t.values]) : undefined;
        throw fail("CONFIG_BAD_VALUE", file, key, `expected one of ${t.values.map((x) => `"${x}"`).join(", ")}, found ${found}${best ? `; did you mean "${best}"?` : ""}`);
      }
      return v;
    case "map":
      if (!isTable(v) || Object.values(v).some((x) => typeof x !== "string")) throw wrong("a table of strings");
      return v;
  }
}

function resolvePassword(values: Table, file: string, section: string, warnings: string[]): Secret | undefined {
  const given = (["password", "password_env", "password_file"] as const).filter((k) => values[k] !== undefined);
  if (given.length > 1) {
    throw fail("CONFIG_BAD_VALUE", file, `${section}.${given[1]}`, `set only one of password, password_env, password_file (found ${given.join(" and ")})`);
  }
  if (typeof values.password === "string") return new Secret(values.password);
  if (typeof values.password_env === "string") {
    const v = process.env[values.password_env];
    // The key's value is not printed: it may be the password itself, put there by mistake.
    if (v === undefined) {
      throw fail(
        "CONFIG_SECRET_UNREADABLE",
        file,
        `${section}.password_env`,
        "the environment variable it names is not set (its name is not shown, in case the password itself was put there)",
      );
    }
    return new Secret(v);
  }
  if (typeof values.password_file === "string") {
    const p = values.password_file;
    let content: string;
    try {
      content = readFileSync(p, "utf8");
      if ((statSync(p).mode & 0o004) !== 0) warnings.push(`${file}: [${section}] password_file ${p} is world-readable; chmod 600 it`);
    } catch (cause) {
      const reason = ((cause as { code?: string }).code ?? "unreadable").replace(/^ENOENT$/, "no such file").replace(/^EACCES$/, "permission denied");
      throw fail(
        "CONFIG_SECRET_UNREADABLE",
        file,
        `${section}.password_file`,
        `cannot read the file it names: ${reason} (its path is not shown, in case the password itself was put there)`,
      );
    }
    return new Secret(content.split(/\r?\n/)[0] ?? "");
  }
  return undefined;
}

function assemble(s: Record<string, Table>): Config {
  const withTls = (name: string) => (s[name] ? { ...s[name], tls: s[`${name}.tls`] ?? { mode: "disabled" } } : undefined);
  const transport = s.transport
    ? {
        ...s.transport,
        journal: s["transport.journal"],
        kafka: s["transport.kafka"] ? { ...s["transport.kafka"], sasl: s["transport.kafka.sasl"], tls: s["transport.kafka.tls"] } : undefined,
      }
    : undefined;
  return {
    source: withTls("source"),
    transport,
    target: withTls("target"),
    sink: s.sink ?? structuredClone(defaultsOf("sink")),
    copy: s.copy ?? structuredClone(defaultsOf("copy")),
    check: s.check ?? structuredClone(defaultsOf("check")),
    log: s.log ?? structuredClone(defaultsOf("log")),
    metrics: s.metrics,
  } as unknown as Config;
}

function defaultsOf(section: string): Table {
  return Object.fromEntries(
    Object.entries(SCHEMA[section]!.keys)
      .filter(([, k]) => k.default !== undefined)
      .map(([name, k]) => [name, k.default]),
  );
}

function lookup(doc: Table, dotted: string): unknown {
  let cur: unknown = doc;
  for (const part of dotted.split(".")) {
    if (!isTable(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (isTable(v)) return "a table";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  if (typeof v === "number") return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}

function fail(code: ErrorCode, file: string, key: string | undefined, message: string, cause?: unknown): ReplicateError {
  return new ReplicateError(code, `${file}:${key ? ` ${formatKey(key)}:` : ""} ${message}`, {
    kind: "config",
    where: key ?? file,
    cause,
  });
}

/** "source.port" → "[source] port"; a section name → "[transport.kafka]". */
function formatKey(key: string): string {
  if (key in SCHEMA) return `[${key}]`;
  const dot = key.lastIndexOf(".");
  return dot < 0 ? key : `[${key.slice(0, dot)}] ${key.slice(dot + 1)}`;
}

/** Levenshtein distance-based suggestion, only when reasonably close. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  const tail = (s: string) => s.slice(s.lastIndexOf(".") + 1);
  for (const c of candidates) {
    const d = Math.min(distance(word, c), distance(tail(word), tail(c)));
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(tail(word).length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
