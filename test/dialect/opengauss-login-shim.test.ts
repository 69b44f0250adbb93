// The openGauss login shim, end to end through connectTarget()/checkTarget() and postgres.js.
// Every login a real openGauss 7.0 asks for is proven against one: test/dialect/opengauss-login.test.ts
// (SHA256, MD5_SHA256, MD5, refusals, no password, CancelRequest) and
// test/security/tls-target-opengauss.test.ts (TLS modes, client certificates, SM3). What is left
// here is what no real server of the test run can show:
//  - against a FAKE openGauss written here (node:net), which speaks the startup and the
//    authentication requests as openGauss-server auth.cpp sends them and checks the answers the
//    way the server does:
//      * which protocol version and startup parameters arrive, and the Terminate on sql.end();
//      * an older server that negotiates the protocol down (openGauss 7.0 accepts 3.51) and
//        sends a server signature instead of the iteration count;
//      * a cleartext request (openGauss 7.0 refuses pg_hba method "password": "invalid
//        authentication method", measured) and PostgreSQL's SASL request (the shared PostgreSQL
//        trusts every login);
//      * that nothing goes out in the clear when the server answers "no TLS" (a real server shows
//        the refusal, not what the client did not send);
//  - against the real PostgreSQL 15: dialect "opengauss" through the shim (PostgreSQL answers
//    3.51 with NegotiateProtocolVersion), dialect "postgresql" directly.

import { describe, expect, test } from "bun:test";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { Secret } from "../../src/config/secret.ts";
import type { TargetConfig } from "../../src/config/types.ts";
import { checkTarget, connectTarget } from "../../src/dialect/connect.ts";
import { describeError, ReplicateError } from "../../src/errors.ts";
import { cancelledSleep } from "../support/running.ts";
import { getPostgres } from "../support/servers.ts";

const PASSWORD = "Gauss@123!secret";
const USER = "gsr";

// ------------------------------------------------------------------ wire helpers

const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
};
const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n, 0);
  return b;
};
const cstr = (s: string) => Buffer.from(s + "\0", "utf8");
const msg = (type: string, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from(type, "latin1"), i32(4 + body.length), body]);
};

/** Reads exact byte counts from a socket. */
class Wire {
  #buf = Buffer.alloc(0);
  #want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;
  #closed = false;
  readonly #onData = (d: Buffer) => {
    this.#buf = Buffer.concat([this.#buf, d]);
    this.#pump();
  };
  constructor(readonly socket: Duplex) {
    socket.on("data", this.#onData);
    socket.on("close", () => {
      this.#closed = true;
      this.#want?.reject(new Error("closed"));
    });
    socket.on("error", () => {});
  }
  #pump(): void {
    const w = this.#want;
    if (w && this.#buf.length >= w.n) {
      this.#want = undefined;
      const out = this.#buf.subarray(0, w.n);
      this.#buf = this.#buf.subarray(w.n);
      w.resolve(out);
    }
  }
  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#closed && this.#buf.length < n) return reject(new Error("closed"));
      this.#want = { n, resolve, reject };
      this.#pump();
    });
  }
  async packet(): Promise<Buffer> {
    const len = (await this.read(4)).readInt32BE(0);
    return this.read(len - 4);
  }
  async message(): Promise<{ type: string; body: Buffer }> {
    const head = await this.read(5);
    return { type: String.fromCharCode(head[0]!), body: await this.read(head.readInt32BE(1) - 4) };
  }
  write(b: Buffer): void {
    this.socket.write(b);
  }
}

// ------------------------------------------------------------------ the fake openGauss

type Method = "sha256" | "cleartext" | "sasl";

interface FakeOptions {
  method: Method;
  /** The password the server stores (the client may be configured with another). */
  password?: string;
  /** auth_iteration_count the stored SHA256 secret was made with. */
  iterations?: number;
  /** Answer a higher minor with NegotiateProtocolVersion carrying this one. */
  negotiateMinor?: number;
}

interface Fake {
  port: number;
  versions: number[];
  params: Record<string, string>[];
  answers: string[];
  sslRequests: number;
  logins: number;
  terminates: number;
  cancels: number;
  connections: number;
  close(): Promise<void>;
}

function storedKeys(password: string, saltHex: string, iterations: number) {
  const k = pbkdf2Sync(Buffer.from(password, "utf8"), Buffer.from(saltHex, "hex"), iterations, 32, "sha1");
  const clientKey = createHmac("sha256", k).update("Client Key").digest();
  return {
    serverKey: createHmac("sha256", k).update("Sever Key").digest(),
    storedKey: createHash("sha256").update(clientKey).digest(),
  };
}

// openGauss (PostgreSQL 9.2-based) sends no non-localized severity (field V).
const REFUSED = msg("E", cstr("SFATAL"), cstr("C28P01"), cstr("MInvalid username/password,login denied."), Buffer.from([0]));

async function startFake(o: FakeOptions): Promise<Fake> {
  const stored = o.password ?? PASSWORD;
  const iterations = o.iterations ?? 10000;
  const sockets = new Set<Socket>();
  const fake: Omit<Fake, "port" | "close"> = { versions: [], params: [], answers: [], sslRequests: 0, logins: 0, terminates: 0, cancels: 0, connections: 0 };

  async function serve(raw: Socket): Promise<void> {
    fake.connections++;
    const io = new Wire(raw);
    let first = await io.packet();
    let code = first.readInt32BE(0);
    if (code === 80877103) {
      fake.sslRequests++;
      raw.write("N");
      first = await io.packet();
      code = first.readInt32BE(0);
    }
    if (code === 80877102) {
      fake.cancels++;
      io.socket.end();
      return;
    }
    fake.versions.push(code);
    const kv = first.subarray(4).toString("utf8").split("\0");
    const params: Record<string, string> = {};
    for (let i = 0; i + 1 < kv.length && kv[i]; i += 2) params[kv[i]!] = kv[i + 1]!;
    fake.params.push(params);
    let minor = code & 0xffff;
    if (o.negotiateMinor !== undefined && minor > o.negotiateMinor) {
      io.write(msg("v", i32(o.negotiateMinor), i32(0)));
      minor = o.negotiateMinor;
    }

    const password = async (request: Buffer): Promise<string> => {
      io.write(msg("R", request));
      const m = await io.message();
      expect(m.type).toBe("p");
      const answer = m.body.subarray(0, m.body.length - 1).toString("utf8");
      fake.answers.push(answer);
      return answer;
    };
    let ok = true;
    const saltHex = randomBytes(32).toString("hex");
    const keys = storedKeys(stored, saltHex, iterations);
    if (o.method === "sha256") {
      // auth.cpp: stored method, salt, token; then the signature (minor < 50) or the count (minor > 50)
      const token = randomBytes(4);
      const tail = minor < 50 ? Buffer.from(createHmac("sha256", keys.serverKey).update(token).digest("hex")) : minor > 50 ? i32(iterations) : Buffer.alloc(0);
      const answer = await password(Buffer.concat([i32(10), i32(2), Buffer.from(saltHex), Buffer.from(token.toString("hex")), tail]));
      const h = Buffer.from(answer, "hex");
      const mac = createHmac("sha256", keys.storedKey).update(token).digest();
      const clientKey = Buffer.from(mac.map((b, i) => b ^ (h[i] ?? 0)));
      ok = answer.length === 64 && createHash("sha256").update(clientKey).digest().equals(keys.storedKey);
    } else if (o.method === "cleartext") {
      ok = (await password(i32(3))) === stored;
    } else if (o.method === "sasl") {
      io.write(msg("R", i32(10), cstr("SCRAM-SHA-256"), Buffer.from([0])));
      ok = false;
    }
    if (!ok) {
      io.write(REFUSED);
      io.socket.end();
      return;
    }
    fake.logins++;
    io.write(
      Buffer.concat([
        msg("R", i32(0)),
        msg("S", cstr("server_version"), cstr("9.2.4")),
        msg("S", cstr("client_encoding"), cstr("UTF8")),
        msg("K", i32(4242), i32(777)),
        msg("Z", Buffer.from("I")),
      ]),
    );
    await queries(io);
  }

  async function queries(io: Wire): Promise<void> {
    const statements = new Map<string, string>();
    let portal = "";
    for (;;) {
      const { type, body } = await io.message();
      const text = (b: Buffer, at = 0) => b.toString("utf8", at, b.indexOf(0, at));
      switch (type) {
        case "P": {
          const name = text(body);
          statements.set(name, text(body, name.length + 1));
          io.write(msg("1"));
          break;
        }
        case "D":
          io.write(Buffer.concat([msg("t", i16(0)), rowDescription(statements.get(text(body, 1)) ?? "")]));
          break;
        case "B":
          portal = statements.get(text(body, text(body).length + 1)) ?? "";
          io.write(msg("2"));
          break;
        case "E":
          io.write(rows(portal));
          break;
        case "S":
          io.write(msg("Z", Buffer.from("I")));
          break;
        case "H":
          break;
        case "Q":
          io.write(Buffer.concat([rowDescription(text(body)), rows(text(body)), msg("Z", Buffer.from("I"))]));
          break;
        case "X":
          fake.terminates++;
          io.socket.end();
          return;
        default:
          throw new Error(`fake openGauss: unexpected message ${type}`);
      }
    }
  }

  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    serve(s).catch(() => s.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return Object.assign(fake, {
    port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  });
}

/** postgres.js asks for the array types first (pg_type), then the test's SELECT 1. */
function columnsOf(sql: string): [string, number][] {
  return sql.includes("pg_type")
    ? [
        ["oid", 26],
        ["typarray", 26],
      ]
    : [["?column?", 23]];
}
function rowDescription(sql: string): Buffer {
  const cols = columnsOf(sql);
  return msg("T", i16(cols.length), ...cols.flatMap(([name, oid]) => [cstr(name), i32(0), i16(0), i32(oid), i16(4), i32(-1), i16(0)]));
}
function rows(sql: string): Buffer {
  if (sql.includes("pg_type")) return msg("C", cstr("SELECT 0"));
  return Buffer.concat([msg("D", i16(1), i32(1), Buffer.from("1")), msg("C", cstr("SELECT 1"))]);
}

// ------------------------------------------------------------------ helpers

function target(port: number, over: Partial<TargetConfig> = {}): TargetConfig {
  return {
    host: "127.0.0.1",
    port,
    user: USER,
    password: new Secret(PASSWORD),
    database: "app",
    dialect: "opengauss",
    schema_mapping: {},
    tls: { mode: "disabled" },
    ...over,
  };
}

async function withFake<T>(o: FakeOptions, fn: (fake: Fake) => Promise<T>): Promise<T> {
  const fake = await startFake(o);
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

/** connectTarget + checkTarget + SELECT 1; returns the error of the check, if any. */
async function login(t: TargetConfig): Promise<{ err?: unknown; rows?: unknown[] }> {
  const sql = connectTarget(t, 2);
  try {
    await checkTarget(sql, t);
    return { rows: [...(await sql.unsafe("SELECT 1"))] };
  } catch (err) {
    return { err };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function expectReplicateError(err: unknown, code: string, ...parts: string[]): ReplicateError {
  expect(err).toBeInstanceOf(ReplicateError);
  const e = err as ReplicateError;
  expect(e.code).toBe(code as ReplicateError["code"]);
  for (const p of parts) expect(e.message).toContain(p);
  // The password appears nowhere a DBA or a log could see it.
  expect(e.message).not.toContain(PASSWORD);
  expect(describeError(e)).not.toContain(PASSWORD);
  expect(String((e.cause as Error | undefined)?.message ?? "")).not.toContain(PASSWORD);
  return e;
}

// ------------------------------------------------------------------ tests

describe("openGauss login shim against a fake openGauss", () => {
  test("SHA256 (code 10) over protocol 3.51: the startup the server gets, one answer, Terminate on sql.end()", async () => {
    await withFake({ method: "sha256" }, async (fake) => {
      const t = target(fake.port);
      const sql = connectTarget(t, 3);
      await checkTarget(sql, t);
      const rows: unknown[] = [...(await sql.unsafe("SELECT 1"))];
      expect(rows).toEqual([{ "?column?": 1 }]);
      expect([...(await sql`SELECT 1`)]).toEqual([{ "?column?": 1 }]);
      await sql.end({ timeout: 5 });
      expect(fake.versions).toEqual([(3 << 16) | 51]);
      expect(fake.params[0]).toMatchObject({ user: USER, database: "app", application_name: "gs-replicate" });
      expect(fake.answers).toHaveLength(1);
      expect(fake.answers[0]).toMatch(/^[0-9a-f]{64}$/);
      expect(fake.logins).toBe(1);
      expect(fake.sslRequests).toBe(0);
      for (let i = 0; i < 500 && fake.terminates < 1; i++) await Bun.sleep(10);
      expect(fake.terminates).toBe(1);
    });
  });

  test("NegotiateProtocolVersion down to 3.0: the server signature is checked and picks the legacy 2048 iterations", async () => {
    await withFake({ method: "sha256", negotiateMinor: 0, iterations: 2048 }, async (fake) => {
      expect((await login(target(fake.port))).rows).toEqual([{ "?column?": 1 }]);
      expect(fake.versions).toEqual([(3 << 16) | 51]);
      expect(fake.logins).toBe(1);
    });
  });

  test("old protocol with a signature the configured password cannot produce: no proof is sent", async () => {
    await withFake({ method: "sha256", negotiateMinor: 0, password: "the server's own" }, async (fake) => {
      const { err } = await login(target(fake.port));
      expectReplicateError(err, "TARGET_AUTH", "signature");
      expect(fake.answers).toEqual([]);
    });
  });

  test("cleartext login (a PostgreSQL-derived server may ask for it)", async () => {
    await withFake({ method: "cleartext" }, async (fake) => {
      expect((await login(target(fake.port))).rows).toEqual([{ "?column?": 1 }]);
      expect(fake.answers).toHaveLength(1);
    });
  });

  test("a PostgreSQL SASL request: TARGET_AUTH suggesting dialect postgresql", async () => {
    await withFake({ method: "sasl" }, async (fake) => {
      expectReplicateError((await login(target(fake.port))).err, "TARGET_AUTH", "SCRAM-SHA-256", 'dialect = "postgresql"');
    });
  });

  test("nothing listening: TARGET_CONNECTION, retriable", async () => {
    const fake = await startFake({ method: "sha256" });
    await fake.close();
    const e = expectReplicateError((await login(target(fake.port))).err, "TARGET_CONNECTION", "cannot reach");
    expect(e.retriable).toBe(true);
  });

  test("TLS required, but the server answers N: TARGET_CONNECTION, and no StartupMessage went out in the clear", async () => {
    await withFake({ method: "sha256" }, async (fake) => {
      const { err } = await login(target(fake.port, { tls: { mode: "required" } }));
      expectReplicateError(err, "TARGET_CONNECTION", "does not accept TLS");
      expect(fake.sslRequests).toBe(1);
      expect(fake.versions).toEqual([]);
    });
  });
});

describe("against the real PostgreSQL 15", () => {
  test('dialect "opengauss": through the shim; PostgreSQL negotiates 3.51 down to 3.0', async () => {
    const pg = await getPostgres();
    const t = target(pg.port, { user: pg.user, database: "postgres", password: undefined });
    const sql = connectTarget(t, 2);
    try {
      await checkTarget(sql, t);
      expect((sql.options as unknown as { socket?: unknown }).socket).toBeDefined();
      const [row] = await sql`SELECT ${41}::int + 1 AS x, current_user AS u, current_setting('application_name') AS app`;
      expect(row).toEqual({ x: 42, u: pg.user, app: "gs-replicate" });
      // A CancelRequest goes through the shim too.
      const err = await cancelledSleep(sql);
      expect((err as { code?: string }).code).toBe("57014");
    } finally {
      await sql.end({ timeout: 5 });
    }
  });

  test('dialect "postgresql": postgres.js connects directly', async () => {
    const pg = await getPostgres();
    const t = target(pg.port, { user: pg.user, database: "postgres", password: undefined, dialect: "postgresql" });
    const sql = connectTarget(t, 1);
    try {
      await checkTarget(sql, t);
      expect((sql.options as unknown as { socket?: unknown }).socket).toBeUndefined();
      expect([...(await sql`SELECT 1 AS one`)]).toEqual([{ one: 1 }]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
