import { describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { parseListen } from "../../src/config/listen.ts";
import { ReplicateError } from "../../src/errors.ts";
import { writeConfig } from "../support/cli.ts";

const VALID = `
[source]
host = "db1"
user = "repl"
password = "s3cret-pw"
databases = ["shop"]
start = "gtid:0-1-100"

[transport]
kind = "kafka"

[transport.kafka]
brokers = ["k1:9092", "k2:9092"]
topic = "shop_cdc"

[target]
user = "gauss"
password_env = "GSR_TEST_TARGET_PW"
database = "mig"
schema_mapping = { shop = "shop_mig" }

[sink]
workers = 8
`;

function failure(toml: string, command: "source" | "sink" | "check" = "source"): ReplicateError {
  try {
    loadConfig(writeConfig(toml), command);
  } catch (err) {
    if (err instanceof ReplicateError) return err;
    throw err;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("configuration", () => {
  test("a valid file is accepted, defaults filled, secrets resolved and masked", () => {
    process.env.GSR_TEST_TARGET_PW = "target-pw";
    const { config, warnings } = loadConfig(writeConfig(VALID), "sink");
    expect(warnings).toEqual([]);
    expect(config.source?.host).toBe("db1");
    expect(config.source?.port).toBe(3306);
    expect(config.source?.server_id).toBe(4242);
    expect(config.source?.password?.reveal()).toBe("s3cret-pw");
    expect(config.transport?.kind).toBe("kafka");
    expect(config.transport?.kafka?.brokers).toEqual(["k1:9092", "k2:9092"]);
    expect(config.transport?.kafka?.client_id).toBe("gs-replicate");
    expect(config.target?.password?.reveal()).toBe("target-pw");
    expect(config.target?.dialect).toBe("opengauss");
    expect(config.target?.schema_mapping).toEqual({ shop: "shop_mig" });
    expect(config.target?.tls.mode).toBe("disabled");
    expect(config.sink.workers).toBe(8);
    expect(config.sink.preserve_commit_order).toBe(false);
    const printed = JSON.stringify(config) + String(config.source?.password) + Bun.inspect(config);
    expect(printed).not.toContain("s3cret-pw");
    expect(printed).not.toContain("target-pw");
  });

  test("a missing required key is named", () => {
    const err = failure(VALID.replace('user = "repl"\n', ""));
    expect(err.code).toBe("CONFIG_MISSING_KEY");
    expect(err.kind).toBe("config");
    expect(err.message).toContain("[source] user");
  });

  test("a missing section needed by the command is named", () => {
    const err = failure(`[source]\nuser = "r"\n`, "sink");
    expect(err.code).toBe("CONFIG_MISSING_KEY");
    expect(err.message).toMatch(/\[transport\]/);
  });

  test("the transport's own section is required by its kind", () => {
    const err = failure(VALID.replace('[transport.kafka]\nbrokers = ["k1:9092", "k2:9092"]\ntopic = "shop_cdc"\n', ""));
    expect(err.message).toContain("[transport.kafka]");
  });

  test("a wrong type says what was expected and found", () => {
    const err = failure(VALID.replace("workers = 8", 'workers = "eight"'));
    expect(err.code).toBe("CONFIG_WRONG_TYPE");
    expect(err.message).toContain("[sink] workers");
    expect(err.message).toContain("expected an integer");
    expect(err.message).toContain('"eight"');
  });

  test("an out-of-range value and a bad enum are rejected with the allowed values", () => {
    expect(failure(VALID.replace("workers = 8", "workers = 0")).message).toContain("from 1 to 256");
    const err = failure(VALID.replace('kind = "kafka"', 'kind = "kafak"'));
    expect(err.code).toBe("CONFIG_BAD_VALUE");
    expect(err.message).toContain('did you mean "kafka"');
  });

  test("an unknown key is rejected with the closest valid key", () => {
    const err = failure(VALID.replace("workers = 8", "worker = 8"));
    expect(err.code).toBe("CONFIG_UNKNOWN_KEY");
    expect(err.message).toContain("[sink] worker");
    expect(err.message).toContain('did you mean "sink.workers"');
    const section = failure(VALID.replace("[sink]", "[sinks]"));
    expect(section.message).toContain('did you mean "sink"');
  });

  test("a wrong type of a secret never echoes the value", () => {
    const err = failure(VALID.replace('password = "s3cret-pw"', "password = 123456789"));
    expect(err.message).toContain("[source] password");
    expect(err.message).not.toContain("123456789");
  });

  test("an unreadable password_file is named, a world-readable one warns", () => {
    const err = failure(VALID.replace('password = "s3cret-pw"', 'password_file = "/nonexistent/pw"'));
    expect(err.code).toBe("CONFIG_SECRET_UNREADABLE");
    expect(err.message).toContain("[source] password_file");
    const path = writeConfig(VALID.replace('password = "s3cret-pw"', 'password_file = "PWFILE"'));
    const pw = join(dirname(path), "pw");
    writeFileSync(pw, "from-file\n");
    chmodSync(pw, 0o644);
    writeFileSync(path, readFileSync(path, "utf8").replace("PWFILE", pw));
    const { config, warnings } = loadConfig(path, "source");
    expect(config.source?.password?.reveal()).toBe("from-file");
    expect(warnings.join()).toContain("world-readable");
  });

  test("a malformed start position is rejected with the accepted forms", () => {
    const err = failure(VALID.replace('start = "gtid:0-1-100"', 'start = "file:binlog.000001"'));
    expect(err.code).toBe("CONFIG_BAD_VALUE");
    expect(err.message).toContain("[source] start");
    expect(err.message).toContain("file:<name>:<pos>");
    const { config } = loadConfig(writeConfig(VALID.replace('start = "gtid:0-1-100"', 'start = "file:binlog.000001:4"')), "source");
    expect(config.source?.start).toBe("file:binlog.000001:4");
  });

  test("two password sources at once are ambiguous", () => {
    const err = failure(VALID.replace('password = "s3cret-pw"', 'password = "a"\npassword_env = "B"'));
    expect(err.code).toBe("CONFIG_BAD_VALUE");
    expect(err.message).toContain("only one of");
  });

  test("a TOML syntax error gives the line", () => {
    const err = failure(`[source]\nuser = \n`);
    expect(err.code).toBe("CONFIG_SYNTAX");
    expect(err.message).toContain("line 2");
  });
});

describe("mistakes caught at load (issue 14, item 5)", () => {
  test("a configuration that is not a small file is refused, not read forever (/dev/zero)", () => {
    let err: unknown;
    try {
      loadConfig("/dev/zero", "source");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReplicateError);
    expect((err as ReplicateError).code).toBe("CONFIG_UNREADABLE");
    expect((err as ReplicateError).message).toContain("larger than 1 MiB");
  });

  test("a malformed GTID start is a configuration error (exit 2) at load", () => {
    for (const bad of ["gtid:zz-abc", "gtid:0-1", "gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562", "gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562:x"]) {
      const e = failure(VALID.replace('start = "gtid:0-1-100"', `start = "${bad}"`));
      expect({ bad, code: e.code, kind: e.kind }).toEqual({ bad, code: "CONFIG_BAD_VALUE", kind: "config" });
    }
    for (const good of ["gtid:0-1-100,1-2-7", "gtid:3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7-9, 3e11fa47-71ca-11e1-9e33-c80aa9429563:1"]) {
      expect(() => loadConfig(writeConfig(VALID.replace('start = "gtid:0-1-100"', `start = "${good}"`)), "source")).not.toThrow();
    }
  });

  test("server_name must follow the AVRO naming rule at load, not once events exist", () => {
    const e = failure(VALID.replace('host = "db1"', 'host = "db1"\nserver_name = "bad-name!"'));
    expect(e.code).toBe("CONFIG_BAD_VALUE");
    expect(e.message).toContain("[source] server_name");
    expect(e.message).toContain("[A-Za-z_][A-Za-z0-9_]*");
  });

  test("the value of a secret-bearing key is never printed, even when the password was put there by mistake", () => {
    const env = failure(VALID.replace('password_env = "GSR_TEST_TARGET_PW"', 'password_env = "hunter3-secret"'), "sink");
    expect(env.message).not.toContain("hunter3");
    expect(env.message).toContain("[target] password_env");
    const file = failure(VALID.replace('password_env = "GSR_TEST_TARGET_PW"', 'password_file = "hunter2-secret"'), "sink");
    expect(file.message).not.toContain("hunter2");
    expect(file.message).toContain("[target] password_file");
  });

  test("a database mapped onto the checkpoint's schema (or a system schema) is refused", () => {
    for (const schema of ["gs_replicate", "gs_replicate_guard", "pg_catalog", "information_schema", "pg_toast"]) {
      const e = failure(VALID.replace('schema_mapping = { shop = "shop_mig" }', `schema_mapping = { shop = "${schema}" }`), "sink");
      expect({ schema, code: e.code }).toEqual({ schema, code: "CONFIG_BAD_VALUE" });
      expect(e.message).toContain("[target] schema_mapping");
    }
  });
});

describe("[metrics] and [log] format (issue 17, items 4 and 5)", () => {
  test("no [metrics]: none served; listen forms; a port alone binds to loopback", () => {
    expect(loadConfig(writeConfig(VALID), "source").config.metrics).toBeUndefined();
    expect(loadConfig(writeConfig(VALID), "source").config.log.format).toBe("plain");
    for (const [listen, host, port] of [
      ["127.0.0.1:9187", "127.0.0.1", 9187],
      [":9187", "127.0.0.1", 9187],
      ["9187", "127.0.0.1", 9187],
      ["[::1]:0", "::1", 0],
      ["localhost:9100", "localhost", 9100],
    ] as const) {
      const { config, warnings } = loadConfig(writeConfig(`${VALID}\n[metrics]\nlisten = "${listen}"\n[log]\nformat = "json"\n`), "source");
      expect(parseListen(config.metrics!.listen)).toEqual({ host, port });
      expect(config.log.format).toBe("json");
      expect(warnings).toEqual([]);
    }
  });

  test("a non-loopback address is served with a loud warning; a malformed one is refused", () => {
    const { warnings } = loadConfig(writeConfig(`${VALID}\n[metrics]\nlisten = "0.0.0.0:9187"\n`), "sink");
    expect(warnings.join("\n")).toContain("is not a loopback address: metrics (positions, counts, error codes) are served without authentication");
    for (const bad of ["127.0.0.1:99999", "host:port", "1.2.3.4:", ""]) {
      const e = failure(`${VALID}\n[metrics]\nlisten = "${bad}"\n`);
      expect({ bad, code: e.code }).toEqual({ bad, code: "CONFIG_BAD_VALUE" });
    }
    expect(failure(`${VALID}\n[metrics]\n`).code).toBe("CONFIG_MISSING_KEY");
    expect(failure(`${VALID}\n[log]\nformat = "jsn"\n`).message).toContain('did you mean "json"');
  });
});
