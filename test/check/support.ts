// Configurations for the check suites that call src/check in process (the CLI suites write TOML).
import { validate } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import type { MariaDb, Target } from "../support/servers.ts";

/** A validated `check` configuration: `database` on the source, `targetDatabase` on the target. */
export function checkConfig(db: MariaDb, target: Target, database: string, targetDatabase: string): Config {
  return validate(
    {
      source: { port: db.port, user: "root", password: "", databases: [database] },
      target: {
        host: target.host,
        port: target.port,
        user: target.user,
        ...(target.password === undefined ? {} : { password: target.password }),
        database: targetDatabase,
        dialect: target.dialect,
      },
      log: { level: "error", progress_seconds: 60 },
    },
    "test.toml",
    "check",
  ).config;
}

/** An openGauss database in another compatibility than Target.createDatabase's PG. */
export async function createDatabaseIn(target: Target, name: string, mode: "A" | "B" | "C"): Promise<void> {
  const s = target.sql("postgres");
  try {
    await s.unsafe(`CREATE DATABASE "${name}" DBCOMPATIBILITY '${mode}'`);
  } finally {
    await s.end();
  }
}
