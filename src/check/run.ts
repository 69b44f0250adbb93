// `gs-replicate check` orchestration: the preflight runs every area it can (source, schema,
// transport, target) and reports each check; an area that cannot run is a failure with the
// reason, and the others still run. Only [source] is required; the other sections are checked
// when the configuration has them.

import type { Config } from "../config/types.ts";
import { type CheckResult, errorText, fail } from "./report.ts";
import { targetSessionSettings } from "./data-stop.ts";
import { checkSchema } from "./schema.ts";
import { checkSource } from "./source.ts";
import { checkTargetSide } from "./target.ts";
import { checkTransport } from "./transport.ts";

export async function runPreflight(config: Config): Promise<CheckResult[]> {
  const source = config.source!;
  // The transport does not depend on the servers; its slow failures (Kafka retries) overlap theirs.
  const transport = config.transport ? guard("transport.kafka", () => checkTransport(config.transport!)) : Promise.resolve([]);
  // The check's sessions carry the statement timeout (docs/configuration.md).
  const timeout = config.check.statement_timeout_seconds;
  const src = await checkSource(source, Object.keys(config.target?.schema_mapping ?? {}), timeout);
  try {
    const schema = await checkSchema(src.conn, source, config.target?.dialect ?? "opengauss", config.target?.schema_mapping ?? {});
    const databases = schema.catalog
      ? [...new Set([...source.databases, ...schema.catalog.tables.map((t) => t.database)])]
      : source.databases.length > 0
        ? source.databases
        : Object.keys(config.target?.schema_mapping ?? {});
    const target = config.target
      ? await guard("target.connection", () =>
          checkTargetSide(config.target!, databases, schema.catalog, schema.jsonColumns, schema.foreignKeys, targetSessionSettings(config.check, "gs-replicate check")),
        )
      : [];
    return [...src.results, ...schema.results, ...(await transport), ...target];
  } finally {
    src.conn?.close();
  }
}

/** Every password the configuration holds, for scrubbing reports. */
export function secretsOf(config: Config): string[] {
  return [config.source?.password, config.target?.password, config.transport?.kafka?.sasl?.password].flatMap((s) => (s ? [s.reveal()] : []));
}

async function guard(id: string, f: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await f();
  } catch (err) {
    return [fail(id, `the check itself failed: ${errorText(err)}`, "run it again with GS_REPLICATE_DEBUG=1 and report the message")];
  }
}
