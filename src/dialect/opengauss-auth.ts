// openGauss password logins, as pure functions: parse the server's authentication request
// ('R' message body) and compute the password message that answers it.
//
// Sources (openGauss-server 7.0 and its connectors): the server's auth.cpp (what it sends),
// libpq fe-connect.cpp / fe-auth.cpp / sha2.cpp (what its own client answers) and
// openGauss-connector-jdbc MD5Digest.java. Request codes after the int32 code:
//
//   0  AuthenticationOk                  (nothing)
//   3  cleartext password                (nothing)
//   5  MD5                               byte[4] salt
//   10 SHA256 (PostgreSQL: SASL)         int32 stored method, then
//        method 0 (plain) or 2 (sha256): char[64] hex salt, char[8] hex token,
//          protocol minor < 50: char[64] hex server signature
//          protocol minor > 50: int32 iteration count
//        method 1 (md5):                 byte[4] salt
//   11 MD5_SHA256                        char[64] hex salt, byte[4] md5 salt
//   13 SM3                               not supported here
//
// SHA256 proof (RFC 5802-like, with the server's spelling "Sever Key"):
//   K         = PBKDF2-HMAC-SHA1(password, unhex(salt), iterations, 32)
//   ServerKey = HMAC-SHA256(K, "Sever Key")
//   ClientKey = HMAC-SHA256(K, "Client Key");  StoredKey = SHA256(ClientKey)
//   answer    = hex(HMAC-SHA256(StoredKey, unhex(token)) XOR ClientKey)
//   server signature (old protocol) = hex(HMAC-SHA256(ServerKey, unhex(token)))
// MD5_SHA256 (pg_hba says md5 but the password is stored as SHA256):
//   answer    = "md5" + hex(MD5(salt + hex(ServerKey) + hex(StoredKey) + encoded count + md5salt))
// i.e. PostgreSQL's MD5 step over the stored SHA256 secret without its "sha256" prefix (see
// storedSha256Secret; measured against openGauss 7.0, where libpq's formula without the count fails).

import { createHash, createHmac, pbkdf2, timingSafeEqual } from "node:crypto";
import { ReplicateError } from "../errors.ts";

const AUTH_OK = 0;
const AUTH_CLEARTEXT = 3;
const AUTH_MD5 = 5;
export const AUTH_SHA256 = 10;
export const AUTH_MD5_SHA256 = 11;
const AUTH_SM3 = 13;

/** Protocol minor from which openGauss stops sending the server signature (PG_PROTOCOL_GAUSS_BASE). */
const GAUSS_BASE_MINOR = 50;

/**
 * The server's default `auth_iteration_count` and libpq's ITERATION_COUNT: used when the
 * request does not carry a count (MD5_SHA256, protocol minor 50).
 */
export const DEFAULT_ITERATIONS = 10000;

/** Older servers hashed with 2048 iterations (libpq ITERATION_COUNT_V1, JDBC's default). */
const LEGACY_ITERATIONS = 2048;

/** The maximum of the server's `auth_iteration_count`; a bigger count is not from openGauss. */
const MAX_ITERATIONS = 134217728;

export type AuthRequest =
  | { kind: "ok" }
  | { kind: "cleartext" }
  | { kind: "md5"; salt: Buffer }
  | { kind: "sha256"; salt: string; token: string; signature?: string; iterations?: number }
  | { kind: "sha256-of-md5"; salt: Buffer }
  | { kind: "md5-sha256"; salt: string; md5Salt: Buffer }
  | { kind: "sasl"; mechanisms: string[] }
  | { kind: "unsupported"; code: number };

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX8 = /^[0-9a-fA-F]{8}$/;

function malformed(what: string): ReplicateError {
  return new ReplicateError("TARGET_CONNECTION", `malformed authentication request from the target: ${what}`);
}

/**
 * Parses an authentication request. `body` starts at the int32 request code (the 'R'
 * message without its type byte and length); `protocolMinor` is the minor version the
 * server agreed to, which decides the SHA256 layout.
 */
export function parseAuthRequest(body: Buffer, protocolMinor: number): AuthRequest {
  if (body.length < 4) throw malformed("shorter than its request code");
  const code = body.readInt32BE(0);
  const ascii = (from: number, len: number, what: string): string => {
    if (body.length < from + len) throw malformed(`${what} is cut short`);
    return body.toString("latin1", from, from + len);
  };
  switch (code) {
    case AUTH_OK:
      return { kind: "ok" };
    case AUTH_CLEARTEXT:
      return { kind: "cleartext" };
    case AUTH_MD5:
      if (body.length < 8) throw malformed("MD5 salt is cut short");
      return { kind: "md5", salt: Buffer.from(body.subarray(4, 8)) };
    case AUTH_MD5_SHA256: {
      const salt = ascii(4, 64, "MD5_SHA256 salt");
      if (!HEX64.test(salt)) throw malformed("MD5_SHA256 salt is not 64 hex digits");
      if (body.length < 72) throw malformed("MD5_SHA256 md5 salt is cut short");
      return { kind: "md5-sha256", salt, md5Salt: Buffer.from(body.subarray(68, 72)) };
    }
    case AUTH_SHA256:
      return parseSha256(body, protocolMinor, ascii);
    default:
      return { kind: "unsupported", code };
  }
}

function parseSha256(body: Buffer, minor: number, ascii: (from: number, len: number, what: string) => string): AuthRequest {
  if (body.length < 8) throw malformed("SHA256 request has no stored method");
  const method = body.readInt32BE(4);
  // PostgreSQL's code 10 is SASL: a list of mechanism names, whose first bytes read as a
  // huge "stored method". Recognising it gives a useful error instead of a parse failure.
  if (method < 0 || method > 3) {
    const mechanisms = body
      .toString("utf8", 4)
      .split("\0")
      .filter((m) => m.length > 0);
    return { kind: "sasl", mechanisms };
  }
  if (method === 1) {
    if (body.length < 12) throw malformed("SHA256 md5 salt is cut short");
    return { kind: "sha256-of-md5", salt: Buffer.from(body.subarray(8, 12)) };
  }
  if (method === 3) return { kind: "unsupported", code: AUTH_SM3 };
  const salt = ascii(8, 64, "SHA256 salt");
  const token = ascii(72, 8, "SHA256 token");
  if (!HEX64.test(salt)) throw malformed("SHA256 salt is not 64 hex digits");
  if (!HEX8.test(token)) throw malformed("SHA256 token is not 8 hex digits");
  if (minor < GAUSS_BASE_MINOR) {
    const signature = ascii(80, 64, "SHA256 server signature");
    if (!HEX64.test(signature)) throw malformed("SHA256 server signature is not 64 hex digits");
    return { kind: "sha256", salt, token, signature };
  }
  if (minor > GAUSS_BASE_MINOR) {
    if (body.length < 84) throw malformed("SHA256 iteration count is cut short");
    const iterations = body.readInt32BE(80);
    if (iterations < 1 || iterations > MAX_ITERATIONS) throw malformed(`SHA256 iteration count ${iterations}`);
    return { kind: "sha256", salt, token, iterations };
  }
  return { kind: "sha256", salt, token };
}

interface Sha256Keys {
  serverKey: Buffer;
  clientKey: Buffer;
  storedKey: Buffer;
}

const hmac = (key: Buffer, data: Buffer | string) => createHmac("sha256", key).update(data).digest();

/**
 * The keys openGauss stores for a SHA256 password (sha2.cpp pg_sha256_encrypt). PBKDF2 runs off
 * the event loop: the count comes from the server and may be large.
 */
export async function sha256Keys(password: string, saltHex: string, iterations: number): Promise<Sha256Keys> {
  const k = await new Promise<Buffer>((resolve, reject) =>
    pbkdf2(Buffer.from(password, "utf8"), Buffer.from(saltHex, "hex"), iterations, 32, "sha1", (err, key) => (err ? reject(err) : resolve(key))),
  );
  const clientKey = hmac(k, "Client Key");
  return {
    serverKey: hmac(k, "Sever Key"),
    clientKey,
    storedKey: createHash("sha256").update(clientKey).digest(),
  };
}

/**
 * openGauss appends the iteration count to a stored SHA256 secret, encoded on an 11-letter base:
 * the i-th decimal digit of the count, least significant first, is added to the i-th letter.
 * Measured on openGauss 7.0 (pg_authid.rolpassword under auth_iteration_count 10000, 2048,
 * 12345, 98765, 1000000): "ecdfecefade", "mgdhdcefade", "jgghecefade", "jiknmcefade", "ecdfdcffade".
 */
const ITERATION_BASE = "ecdfdcefade";

export function encodeIterations(iterations: number): string {
  let rest = iterations;
  let out = "";
  for (const letter of ITERATION_BASE) {
    out += String.fromCharCode(letter.charCodeAt(0) + (rest % 10));
    rest = Math.floor(rest / 10);
  }
  return out;
}

/**
 * The secret openGauss stores for a SHA256 password (pg_authid.rolpassword, 209 characters):
 * "sha256", then salt, ServerKey and StoredKey in hex, then the encoded iteration count.
 */
export async function storedSha256Secret(password: string, saltHex: string, iterations: number): Promise<string> {
  const keys = await sha256Keys(password, saltHex, iterations);
  return `sha256${saltHex.toLowerCase()}${keys.serverKey.toString("hex")}${keys.storedKey.toString("hex")}${encodeIterations(iterations)}`;
}

/** 64 lowercase hex digits: HMAC(StoredKey, token) XOR ClientKey. */
export function sha256Proof(keys: Sha256Keys, tokenHex: string): string {
  const mac = hmac(keys.storedKey, Buffer.from(tokenHex, "hex"));
  const h = Buffer.alloc(mac.length);
  for (let i = 0; i < mac.length; i++) h[i] = mac[i]! ^ keys.clientKey[i]!;
  return h.toString("hex");
}

/** What an old-protocol server sends to prove it knows the password: hex(HMAC(ServerKey, token)). */
export function sha256ServerSignature(keys: Sha256Keys, tokenHex: string): string {
  return hmac(keys.serverKey, Buffer.from(tokenHex, "hex")).toString("hex");
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase(), "latin1");
  const y = Buffer.from(b.toLowerCase(), "latin1");
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * The answer to a SHA256 request. Without an iteration count in the request, an old-protocol
 * server's signature tells which count its stored secret used (the current default or the
 * legacy 2048); a signature matching neither means a wrong password or a server that does not
 * know it, and no proof is sent.
 */
export async function answerSha256(password: string, req: Extract<AuthRequest, { kind: "sha256" }>): Promise<string> {
  if (req.iterations !== undefined) return sha256Proof(await sha256Keys(password, req.salt, req.iterations), req.token);
  const signature = req.signature;
  if (signature === undefined) return sha256Proof(await sha256Keys(password, req.salt, DEFAULT_ITERATIONS), req.token);
  for (const iterations of [DEFAULT_ITERATIONS, LEGACY_ITERATIONS]) {
    const keys = await sha256Keys(password, req.salt, iterations);
    if (sameHex(sha256ServerSignature(keys, req.token), signature)) return sha256Proof(keys, req.token);
  }
  throw new ReplicateError(
    "TARGET_AUTH",
    "the target's SHA256 server signature does not match the configured password: the password is wrong, or the server is not the one that stores it",
  );
}

const md5hex = (data: Buffer | string) => createHash("md5").update(data).digest("hex");

/** PostgreSQL's MD5 answer: "md5" + md5(md5(password + user) + salt). */
export function md5Answer(user: string, password: string, salt: Buffer): string {
  return "md5" + md5hex(Buffer.concat([Buffer.from(md5hex(password + user), "latin1"), salt]));
}

/** Code 10 with stored method 1 (old servers): "sha256" + sha256(md5(password + user) + salt). */
export function sha256OfMd5Answer(user: string, password: string, salt: Buffer): string {
  const inner = Buffer.from(md5hex(password + user), "latin1");
  return (
    "sha256" +
    createHash("sha256")
      .update(Buffer.concat([inner, salt]))
      .digest("hex")
  );
}

/**
 * MD5_SHA256 answer: PostgreSQL's MD5 step over the stored secret without its "sha256" prefix,
 * encoded iteration count included (the server hashes the row as stored; libpq's fe-auth.cpp
 * leaves the count out, and openGauss 7.0 refuses that answer, gsql's own included). The request
 * carries no iteration count, so this only succeeds when the password was set under
 * `auth_iteration_count` = `iterations` (default: the server default 10000).
 */
export async function md5Sha256Answer(password: string, saltHex: string, md5Salt: Buffer, iterations = DEFAULT_ITERATIONS): Promise<string> {
  const secret = (await storedSha256Secret(password, saltHex, iterations)).slice("sha256".length);
  return "md5" + md5hex(Buffer.concat([Buffer.from(secret, "latin1"), md5Salt]));
}

/** PasswordMessage: 'p', int32 length, the answer, NUL. */
export function passwordMessage(answer: string): Buffer {
  const text = Buffer.from(answer, "utf8");
  const msg = Buffer.alloc(1 + 4 + text.length + 1);
  msg[0] = 0x70; // 'p'
  msg.writeInt32BE(4 + text.length + 1, 1);
  text.copy(msg, 5);
  return msg;
}
