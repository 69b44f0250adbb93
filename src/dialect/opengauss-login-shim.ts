// Login shim for dialect "opengauss". postgres.js cannot answer openGauss's SHA256 login (its
// code 10 is PostgreSQL's SASL), so it gets a LoginSocket instead of a TCP socket (its `socket`
// option): an in-process Duplex that
//   1. takes postgres.js's StartupMessage, swaps in the protocol version openGauss wants
//      (3.51: the SHA256 request then carries the iteration count) and sends it to the server
//      over its own TCP connection, with TLS when [target] tls.mode asks for it;
//   2. answers the authentication requests itself (opengauss-auth.ts), swallowing a
//      NegotiateProtocolVersion, and passes ErrorResponse/NoticeResponse on to postgres.js;
//   3. from AuthenticationOk on, forwards bytes both ways untouched.
// No listening port: nothing else on the machine can use the logged-in connection, and each
// socket lives and dies with its postgres.js connection (sql.end() closes them all).
// The password is read from the Secret only to compute an answer; it is never logged or echoed.

import { connect as netConnect, isIP, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { Secret } from "../config/secret.ts";
import { ReplicateError } from "../errors.ts";
import { DEFAULT_ITERATIONS, answerSha256, md5Answer, md5Sha256Answer, parseAuthRequest, passwordMessage, sha256OfMd5Answer, type AuthRequest } from "./opengauss-auth.ts";

/** Protocol 3.51: openGauss then includes the iteration count in its SHA256 request. */
export const OPENGAUSS_PROTOCOL = { major: 3, minor: 51 } as const;

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
// Login messages are small; a bigger length means the peer is not speaking this protocol.
const MAX_LOGIN_MESSAGE = 64 * 1024;

interface LoginTarget {
  host: string;
  port: number;
  /** Used for MD5 answers when the StartupMessage names no user. */
  user: string;
  password?: Secret | undefined;
  /** node:tls options for the server connection (after an SSLRequest); undefined: plain TCP. */
  tls?: ConnectionOptions | undefined;
  /** Protocol minor version sent in place of the client's (default OPENGAUSS_PROTOCOL.minor). */
  protocolMinor?: number;
  keepAliveSeconds?: number;
}

/** For postgres.js's `socket` option: one LoginSocket per connection (and per cancel request). */
export function loginSockets(target: LoginTarget): () => LoginSocket {
  return () => new LoginSocket(target);
}

type Phase = "startup" | "login" | "open";

const UNSUPPORTED: Record<number, string> = { 2: "Kerberos 5", 6: "SCM credentials", 7: "GSSAPI", 8: "GSSAPI", 9: "SSPI", 13: "SM3" };

export class LoginSocket extends Duplex {
  // postgres.js names host and port in its connection errors from these.
  readonly host: string;
  readonly port: number;
  readonly #target: LoginTarget;
  #phase: Phase = "startup";
  #fromClient: Buffer = Buffer.alloc(0);
  #fromServer: Buffer = Buffer.alloc(0);
  /** The server connection once ready (TLS established); before that only #socket is set. */
  #server: Socket | undefined;
  #socket: Socket | undefined;
  #minor: number;
  #user: string;
  #answered: AuthRequest["kind"] | undefined;
  #work: Promise<void> = Promise.resolve();

  constructor(target: LoginTarget) {
    super();
    this.#target = target;
    this.host = target.host;
    this.port = target.port;
    this.#minor = target.protocolMinor ?? OPENGAUSS_PROTOCOL.minor;
    this.#user = target.user;
  }

  /** postgres.js sends Terminate only while 'open' and waits for 'close' unless 'closed'. */
  get readyState(): "open" | "closed" {
    return this.destroyed ? "closed" : "open";
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const server = this.#server;
    if (this.#phase === "open" && server) {
      if (server.write(chunk)) done();
      else server.once("drain", () => done());
      return;
    }
    // Before AuthenticationOk nothing from postgres.js but its first packet goes to the server.
    this.#fromClient = this.#fromClient.length ? Buffer.concat([this.#fromClient, chunk]) : chunk;
    if (this.#phase === "startup") this.#readFirstPacket();
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    if (this.#phase === "open" && this.#server) {
      this.#server.end();
      done();
      return;
    }
    done();
    this.destroy();
  }

  override _read(): void {
    if (this.#phase === "open") this.#server?.resume();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.#socket?.destroy();
    done(err);
  }

  // ------------------------------------------------------------ client side

  #readFirstPacket(): void {
    while (this.#phase === "startup" && this.#fromClient.length >= 8) {
      const len = this.#fromClient.readInt32BE(0);
      if (len < 8 || len > MAX_LOGIN_MESSAGE) return this.#fail("INTERNAL", `postgres.js sent a first packet of ${len} bytes`);
      if (this.#fromClient.length < len) return;
      const packet = this.#fromClient.subarray(0, len);
      this.#fromClient = this.#fromClient.subarray(len);
      const code = packet.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        // postgres.js talks to this socket in plain; TLS, if any, is on the server side.
        this.push(Buffer.from("N", "latin1"));
      } else if (code === CANCEL_REQUEST) {
        this.#phase = "open";
        void this.#connect(packet);
      } else if (code >>> 16 === 3) {
        this.#phase = "login";
        void this.#connect(this.#startupPacket(packet));
      } else {
        return this.#fail("INTERNAL", `postgres.js sent an unknown first packet (code ${code})`);
      }
    }
  }

  /** The StartupMessage with the protocol version this dialect wants; parameters untouched. */
  #startupPacket(packet: Buffer): Buffer {
    const params = packet.subarray(8).toString("utf8").split("\0");
    for (let i = 0; i + 1 < params.length && params[i] !== ""; i += 2) {
      if (params[i] === "user" && params[i + 1]) this.#user = params[i + 1]!;
    }
    const out = Buffer.from(packet);
    out.writeInt32BE(((OPENGAUSS_PROTOCOL.major << 16) | this.#minor) >>> 0, 4);
    return out;
  }

  // ------------------------------------------------------------ server side

  async #connect(first: Buffer): Promise<void> {
    try {
      const server = await this.#open();
      if (this.destroyed) return;
      this.#server = server;
      server.on("data", (data: Buffer) => this.#onServerData(data));
      server.on("close", () => this.#onServerClose());
      server.write(first);
      if (this.#phase === "open") this.#flushClient();
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** TCP to the server, then SSLRequest and a TLS handshake when configured. */
  #open(): Promise<Socket> {
    const { host, port, tls } = this.#target;
    const where = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      // Every socket keeps an 'error' listener for life: an 'error' without one would throw.
      const watch = (socket: Socket) => {
        this.#socket = socket;
        socket.on("error", (err) => {
          reject(err);
          this.destroy(err);
        });
        socket.once("close", () =>
          reject(new ReplicateError("TARGET_CONNECTION", `the target ${where} closed the connection before the login started`, { where, retriable: true })),
        );
      };
      const raw = netConnect({ host, port });
      watch(raw);
      raw.setNoDelay(true);
      raw.setKeepAlive(true, (this.#target.keepAliveSeconds ?? 60) * 1000);
      raw.once("connect", () => {
        if (!tls) return resolve(raw);
        const request = Buffer.alloc(8);
        request.writeInt32BE(8, 0);
        request.writeInt32BE(SSL_REQUEST, 4);
        raw.write(request);
        raw.once("data", (answer: Buffer) => {
          // Exactly one byte: anything after it would be unencrypted data injected before the handshake.
          if (answer.length !== 1 || answer[0] !== 0x53) {
            const said = answer[0] === 0x4e ? "does not accept TLS" : "gave no valid answer to the TLS request";
            reject(new ReplicateError("TARGET_CONNECTION", `the target ${where} ${said}, but [target] tls.mode requires TLS`, { where }));
            return raw.destroy();
          }
          const secure = tlsConnect({ ...tls, socket: raw, host, servername: isIP(host) ? undefined : host });
          watch(secure);
          secure.once("secureConnect", () => resolve(secure));
        });
      });
    });
  }

  #onServerData(data: Buffer): void {
    if (this.#phase === "open") {
      if (!this.push(data)) this.#server?.pause();
      return;
    }
    this.#fromServer = this.#fromServer.length ? Buffer.concat([this.#fromServer, data]) : data;
    // Answers are computed off the event loop; messages are still handled one at a time, in order.
    this.#work = this.#work
      .then(() => this.#readLoginMessages())
      .catch((err: unknown) => {
        this.destroy(err instanceof Error ? err : new Error(String(err)));
      });
  }

  async #readLoginMessages(): Promise<void> {
    while (this.#phase === "login" && !this.destroyed && this.#fromServer.length >= 5) {
      const type = this.#fromServer[0]!;
      const len = this.#fromServer.readInt32BE(1);
      if (len < 4 || len > MAX_LOGIN_MESSAGE) {
        return this.#fail("TARGET_CONNECTION", `the target sent a ${len}-byte message '${String.fromCharCode(type)}' during login: it does not speak the openGauss protocol`);
      }
      if (this.#fromServer.length < 1 + len) return;
      const msg = this.#fromServer.subarray(0, 1 + len);
      this.#fromServer = this.#fromServer.subarray(1 + len);
      await this.#onLoginMessage(type, msg);
    }
  }

  async #onLoginMessage(type: number, msg: Buffer): Promise<void> {
    switch (type) {
      case 0x52: {
        // 'R' Authentication*
        const req = parseAuthRequest(msg.subarray(5), this.#minor);
        if (req.kind === "ok") return this.#loggedIn(msg);
        const answer = await this.#answer(req);
        this.#answered = req.kind;
        if (!this.destroyed) this.#server?.write(passwordMessage(answer));
        return;
      }
      case 0x45: // 'E' ErrorResponse: postgres.js reports it; the server then closes.
        this.push(this.#answered === "md5-sha256" ? withMd5Sha256Hint(msg) : msg);
        return;
      case 0x4e: // 'N' NoticeResponse
        this.push(msg);
        return;
      case 0x76: // 'v' NegotiateProtocolVersion: our 3.51, not postgres.js's request; continue with the server's minor.
        if (msg.length >= 9) this.#minor = Math.min(this.#minor, msg.readInt32BE(5));
        return;
      default:
        return this.#fail("TARGET_CONNECTION", `the target sent message '${String.fromCharCode(type)}' before AuthenticationOk`);
    }
  }

  /** AuthenticationOk: hand it and everything after it to postgres.js, then just forward. */
  #loggedIn(ok: Buffer): void {
    this.#phase = "open";
    const rest = this.#fromServer;
    this.#fromServer = Buffer.alloc(0);
    if (!this.push(rest.length ? Buffer.concat([ok, rest]) : ok)) this.#server?.pause();
    this.#flushClient();
  }

  #flushClient(): void {
    if (this.#fromClient.length && this.#server) this.#server.write(this.#fromClient);
    this.#fromClient = Buffer.alloc(0);
  }

  #onServerClose(): void {
    // What the server said last (an ErrorResponse) must reach postgres.js before 'close', or it
    // would take the close for a dropped connection and reconnect: wait for the login messages
    // still being handled, then for postgres.js to read what is buffered.
    void this.#work.then(() => {
      if (this.destroyed) return;
      this.push(null);
      if (this.readableLength === 0) this.destroy();
      else this.once("end", () => this.destroy());
    });
  }

  async #answer(req: Exclude<AuthRequest, { kind: "ok" }>): Promise<string> {
    const where = `${this.#target.host}:${this.#target.port}`;
    const password = (): string => {
      const p = this.#target.password?.reveal();
      if (p === undefined) throw new ReplicateError("TARGET_AUTH", `the target ${where} asks for a password, but [target] password is not set`, { where });
      return p;
    };
    switch (req.kind) {
      case "cleartext":
        return password();
      case "md5":
        return md5Answer(this.#user, password(), req.salt);
      case "sha256":
        return answerSha256(password(), req);
      case "sha256-of-md5":
        return sha256OfMd5Answer(this.#user, password(), req.salt);
      case "md5-sha256":
        return md5Sha256Answer(password(), req.salt, req.md5Salt);
      case "sasl":
        throw new ReplicateError(
          "TARGET_AUTH",
          `the target ${where} asks for SASL (${req.mechanisms.join(", ")}), PostgreSQL's login: it is not openGauss; set [target] dialect = "postgresql"`,
          { where },
        );
      case "unsupported":
        throw new ReplicateError(
          "TARGET_AUTH",
          `the target ${where} asks for authentication request ${req.code}${UNSUPPORTED[req.code] ? ` (${UNSUPPORTED[req.code]})` : ""}, which gs-replicate does not support; ` +
            `use password_encryption_type = 2 (SHA256) with "sha256" or "md5" in pg_hba.conf for this user`,
          { where },
        );
    }
  }

  #fail(code: "INTERNAL" | "TARGET_CONNECTION", message: string): void {
    this.destroy(new ReplicateError(code, message, { where: `${this.#target.host}:${this.#target.port}` }));
  }
}

/**
 * MD5_SHA256 requests carry no iteration count, so a refusal may come from a password stored
 * under another `auth_iteration_count`; the server's message alone would not say so.
 */
function withMd5Sha256Hint(msg: Buffer): Buffer {
  const hint =
    ` (gs-replicate answered the server's MD5_SHA256 request assuming auth_iteration_count = ${DEFAULT_ITERATIONS}, since that request does not carry it;` +
    ` if the password was set under another count, use "sha256" instead of "md5" in pg_hba.conf for this user)`;
  const fields: Buffer[] = [];
  let at = 5;
  while (at < msg.length && msg[at] !== 0) {
    const end = msg.indexOf(0, at + 1);
    if (end < 0) return msg;
    const value = msg.toString("utf8", at + 1, end);
    fields.push(Buffer.from(String.fromCharCode(msg[at]!) + (msg[at] === 0x4d ? value + hint : value) + "\0", "utf8"));
    at = end + 1;
  }
  const body = Buffer.concat([...fields, Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head[0] = 0x45;
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}
