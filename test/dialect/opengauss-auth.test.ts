// openGauss password answers against vectors computed here, step by step, from the documented
// algorithm (openGauss-server sha2.cpp pg_sha256_encrypt and auth.cpp; libpq fe-auth.cpp;
// openGauss-connector-jdbc MD5Digest.RFC5802Algorithm / MD5_SHA256encode), independently of
// src/dialect/opengauss-auth.ts, and against secrets measured on openGauss 7.0. The real server
// accepting these answers is test/dialect/opengauss-login.test.ts.

import { describe, expect, test } from "bun:test";
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";
import {
  AUTH_MD5_SHA256,
  AUTH_SHA256,
  answerSha256,
  encodeIterations,
  md5Answer,
  md5Sha256Answer,
  parseAuthRequest,
  passwordMessage,
  sha256Keys,
  sha256OfMd5Answer,
  sha256Proof,
  sha256ServerSignature,
  storedSha256Secret,
} from "../../src/dialect/opengauss-auth.ts";
import { ReplicateError } from "../../src/errors.ts";

const PASSWORD = "Gauss@123-pässwörd";
const SALT = "0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978";
const TOKEN = "1a2b3c4d";

// ------------------------------------------------------------------ the documented steps

function documented(password: string, saltHex: string, tokenHex: string, iterations: number) {
  // 1. K = PBKDF2-HMAC-SHA1(password UTF-8, unhex(salt) = 32 bytes, iterations, 32 bytes)
  const k = pbkdf2Sync(Buffer.from(password, "utf8"), Buffer.from(saltHex, "hex"), iterations, 32, "sha1");
  // 2. ServerKey = HMAC-SHA256(K, "Sever Key"), the server's spelling
  const serverKey = createHmac("sha256", k).update("Sever Key").digest();
  // 3. ClientKey = HMAC-SHA256(K, "Client Key"); StoredKey = SHA256(ClientKey)
  const clientKey = createHmac("sha256", k).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  // 4. H = HMAC-SHA256(StoredKey, unhex(token) = 4 bytes) XOR ClientKey
  const mac = createHmac("sha256", storedKey).update(Buffer.from(tokenHex, "hex")).digest();
  const h = Buffer.from(mac.map((b, i) => b ^ clientKey[i]!));
  // server signature (protocol minor < 50) = hex(HMAC-SHA256(ServerKey, unhex(token)))
  const signature = createHmac("sha256", serverKey).update(Buffer.from(tokenHex, "hex")).digest("hex");
  // 5. the answer is lowercase hex(H)
  return { k, serverKey, clientKey, storedKey, mac, h, proof: h.toString("hex"), signature };
}

/** What openGauss checks on receipt: SHA256(HMAC(StoredKey, token) XOR H) == StoredKey. */
function serverAccepts(storedKey: Buffer, tokenHex: string, proofHex: string): boolean {
  const mac = createHmac("sha256", storedKey).update(Buffer.from(tokenHex, "hex")).digest();
  const h = Buffer.from(proofHex, "hex");
  const clientKey = Buffer.from(mac.map((b, i) => b ^ h[i]!));
  return createHash("sha256").update(clientKey).digest().equals(storedKey);
}

function body(...parts: (number | string | Buffer)[]): Buffer {
  return Buffer.concat(
    parts.map((p) => {
      if (typeof p === "number") {
        const b = Buffer.alloc(4);
        b.writeInt32BE(p, 0);
        return b;
      }
      return typeof p === "string" ? Buffer.from(p, "latin1") : p;
    }),
  );
}

// ------------------------------------------------------------------ SHA256 proof

describe("SHA256 (request code 10): RFC 5802-like proof with 'Sever Key'", () => {
  for (const iterations of [10000, 2048, 1]) {
    test(`proof equals the documented steps (${iterations} iterations)`, async () => {
      const want = documented(PASSWORD, SALT, TOKEN, iterations);
      const keys = await sha256Keys(PASSWORD, SALT, iterations);
      expect(keys.serverKey.toString("hex")).toBe(want.serverKey.toString("hex"));
      expect(keys.clientKey.toString("hex")).toBe(want.clientKey.toString("hex"));
      expect(keys.storedKey.toString("hex")).toBe(want.storedKey.toString("hex"));
      const proof = sha256Proof(keys, TOKEN);
      expect(proof).toBe(want.proof);
      expect(proof).toMatch(/^[0-9a-f]{64}$/);
      // XOR property: H XOR HMAC(StoredKey, token) gives back ClientKey.
      const back = Buffer.from(Buffer.from(proof, "hex").map((b, i) => b ^ want.mac[i]!));
      expect(back.equals(want.clientKey)).toBe(true);
      expect(serverAccepts(want.storedKey, TOKEN, proof)).toBe(true);
      expect(sha256ServerSignature(keys, TOKEN)).toBe(want.signature);
    });
  }

  test("known answer, computed outside JavaScript (Python hashlib/hmac) from the same steps", async () => {
    const keys = await sha256Keys(PASSWORD, SALT, 10000);
    expect(sha256Proof(keys, TOKEN)).toBe("51c5feb242893fe32839e36e12adf537dec6c7acc3629829c5382d3d7388e79e");
    expect(sha256ServerSignature(keys, TOKEN)).toBe("53ed2cdf891dc2f33246ee019d3446511a6cb84ac5e444c25bb5bc7b5a813334");
    expect(await md5Sha256Answer(PASSWORD, SALT, Buffer.from([0x01, 0xfe, 0x7f, 0x80]))).toBe("md539b9a70491030e20c60aae35fb5f7ee5");
  });

  test("the misspelling matters: 'Server Key' gives another ServerKey", async () => {
    const k = pbkdf2Sync(PASSWORD, Buffer.from(SALT, "hex"), 10000, 32, "sha1");
    const correctly = createHmac("sha256", k).update("Server Key").digest("hex");
    expect((await sha256Keys(PASSWORD, SALT, 10000)).serverKey.toString("hex")).not.toBe(correctly);
  });

  test("a wrong password or token is refused by the server-side check", async () => {
    const stored = documented(PASSWORD, SALT, TOKEN, 10000).storedKey;
    expect(serverAccepts(stored, TOKEN, sha256Proof(await sha256Keys("other", SALT, 10000), TOKEN))).toBe(false);
    expect(serverAccepts(stored, "deadbeef", sha256Proof(await sha256Keys(PASSWORD, SALT, 10000), TOKEN))).toBe(false);
    expect(serverAccepts(stored, TOKEN, sha256Proof(await sha256Keys(PASSWORD, SALT, 9999), TOKEN))).toBe(false);
  });

  test("answerSha256 uses the count from a 3.51 request", async () => {
    const want = documented(PASSWORD, SALT, TOKEN, 4096).proof;
    expect(await answerSha256(PASSWORD, { kind: "sha256", salt: SALT, token: TOKEN, iterations: 4096 })).toBe(want);
  });

  test("old protocol: the server signature picks 10000 or the legacy 2048 iterations", async () => {
    for (const iterations of [10000, 2048]) {
      const want = documented(PASSWORD, SALT, TOKEN, iterations);
      const answer = await answerSha256(PASSWORD, { kind: "sha256", salt: SALT, token: TOKEN, signature: want.signature.toUpperCase() });
      expect(answer).toBe(want.proof);
    }
  });

  test("old protocol: a signature the password cannot produce stops the login, without the password in the error", async () => {
    const signature = documented("the server's password", SALT, TOKEN, 10000).signature;
    const err = await answerSha256(PASSWORD, { kind: "sha256", salt: SALT, token: TOKEN, signature }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReplicateError);
    expect((err as ReplicateError).code).toBe("TARGET_AUTH");
    expect((err as ReplicateError).message).toContain("signature");
    expect((err as ReplicateError).message).not.toContain(PASSWORD);
  });
});

// ------------------------------------------------------------------ other methods

describe("MD5-based answers", () => {
  const salt = Buffer.from([0x01, 0xfe, 0x7f, 0x80]);
  const md5 = (b: Buffer | string) => createHash("md5").update(b).digest("hex");

  test("MD5 (code 5): PostgreSQL's md5(md5(password + user) + salt)", () => {
    const want = "md5" + md5(Buffer.concat([Buffer.from(md5(PASSWORD + "gsr")), salt]));
    expect(md5Answer("gsr", PASSWORD, salt)).toBe(want);
    expect(want).toMatch(/^md5[0-9a-f]{32}$/);
  });

  test("MD5_SHA256 (code 11): md5 over the stored secret without its prefix, encoded iteration count included, then the md5 salt", async () => {
    const d = documented(PASSWORD, SALT, TOKEN, 10000);
    // pg_authid.rolpassword without "sha256": salt, ServerKey, StoredKey in hex, then 10000 encoded.
    const secret = SALT + d.serverKey.toString("hex") + d.storedKey.toString("hex") + "ecdfecefade";
    expect(secret).toHaveLength(203);
    const want = "md5" + md5(Buffer.concat([Buffer.from(secret), salt]));
    expect(await md5Sha256Answer(PASSWORD, SALT, salt)).toBe(want);
    expect(await md5Sha256Answer(PASSWORD, SALT, salt, 2048)).not.toBe(want);
    // libpq fe-auth.cpp's formula, without the count, is what openGauss 7.0 refuses.
    expect(await md5Sha256Answer(PASSWORD, SALT, salt)).not.toBe("md5" + md5(Buffer.concat([Buffer.from(secret.slice(0, 192)), salt])));
  });

  test("the encoded iteration count and the stored secret, as openGauss 7.0 stores them (measured in pg_authid)", async () => {
    const measured: Array<[number, string]> = [
      [10000, "ecdfecefade"],
      [2048, "mgdhdcefade"],
      [12345, "jgghecefade"],
      [98765, "jiknmcefade"],
      [1000000, "ecdfdcffade"],
    ];
    for (const [count, text] of measured) expect(encodeIterations(count)).toBe(text);
    const d = documented(PASSWORD, SALT, TOKEN, 2048);
    expect(await storedSha256Secret(PASSWORD, SALT, 2048)).toBe(`sha256${SALT}${d.serverKey.toString("hex")}${d.storedKey.toString("hex")}mgdhdcefade`);
  });

  test("code 10 with stored method 1 (old servers): 'sha256' + sha256(md5(password + user) + salt)", () => {
    const want =
      "sha256" +
      createHash("sha256")
        .update(Buffer.concat([Buffer.from(md5(PASSWORD + "gsr")), salt]))
        .digest("hex");
    expect(sha256OfMd5Answer("gsr", PASSWORD, salt)).toBe(want);
  });

  test("PasswordMessage framing: 'p', int32 length, text, NUL", () => {
    const m = passwordMessage("abc");
    expect([...m]).toEqual([0x70, 0, 0, 0, 8, 0x61, 0x62, 0x63, 0]);
  });
});

// ------------------------------------------------------------------ parsing

describe("parseAuthRequest", () => {
  const SIG = "ab".repeat(32);

  test("code 10 layouts by protocol minor: signature below 50, nothing at 50, iteration count above", () => {
    expect(parseAuthRequest(body(AUTH_SHA256, 2, SALT, TOKEN, SIG), 0)).toEqual({ kind: "sha256", salt: SALT, token: TOKEN, signature: SIG });
    expect(parseAuthRequest(body(AUTH_SHA256, 2, SALT, TOKEN), 50)).toEqual({ kind: "sha256", salt: SALT, token: TOKEN });
    expect(parseAuthRequest(body(AUTH_SHA256, 2, SALT, TOKEN, 10000), 51)).toEqual({ kind: "sha256", salt: SALT, token: TOKEN, iterations: 10000 });
    // stored method 0 (plain) is answered like SHA256, as libpq and JDBC do
    expect(parseAuthRequest(body(AUTH_SHA256, 0, SALT, TOKEN, 2048), 51)).toEqual({ kind: "sha256", salt: SALT, token: TOKEN, iterations: 2048 });
    expect(parseAuthRequest(body(AUTH_SHA256, 1, Buffer.from([1, 2, 3, 4])), 51)).toEqual({ kind: "sha256-of-md5", salt: Buffer.from([1, 2, 3, 4]) });
    expect(parseAuthRequest(body(AUTH_SHA256, 3, SALT, TOKEN, 10000), 51)).toEqual({ kind: "unsupported", code: 13 });
  });

  test("PostgreSQL's SASL request (also code 10) is recognised", () => {
    expect(parseAuthRequest(body(AUTH_SHA256, "SCRAM-SHA-256\0SCRAM-SHA-256-PLUS\0\0"), 51)).toEqual({
      kind: "sasl",
      mechanisms: ["SCRAM-SHA-256", "SCRAM-SHA-256-PLUS"],
    });
  });

  test("other codes", () => {
    expect(parseAuthRequest(body(0), 51)).toEqual({ kind: "ok" });
    expect(parseAuthRequest(body(3), 51)).toEqual({ kind: "cleartext" });
    expect(parseAuthRequest(body(5, Buffer.from([9, 8, 7, 6])), 51)).toEqual({ kind: "md5", salt: Buffer.from([9, 8, 7, 6]) });
    expect(parseAuthRequest(body(AUTH_MD5_SHA256, SALT, Buffer.from([1, 2, 3, 4])), 51)).toEqual({
      kind: "md5-sha256",
      salt: SALT,
      md5Salt: Buffer.from([1, 2, 3, 4]),
    });
    expect(parseAuthRequest(body(7), 51)).toEqual({ kind: "unsupported", code: 7 });
  });

  test("truncated or non-hex requests are TARGET_CONNECTION errors", () => {
    const bad = [
      body(AUTH_SHA256, 2, SALT, TOKEN),
      body(AUTH_SHA256, 2, SALT.slice(0, 40)),
      body(AUTH_SHA256, 2, "zz" + SALT.slice(2), TOKEN, 10000),
      body(AUTH_SHA256, 2, SALT, "nothex!!", 10000),
      body(AUTH_SHA256, 2, SALT, TOKEN, 0),
      body(AUTH_SHA256, 2, SALT, TOKEN, 0x61623132), // hex digits read as a count: ~1.6e9, above the server's maximum
      body(AUTH_MD5_SHA256, SALT),
      body(5, Buffer.from([1])),
      Buffer.from([0, 0]),
    ];
    for (const b of bad) {
      let err: unknown;
      try {
        parseAuthRequest(b, 51);
      } catch (e) {
        err = e;
      }
      expect((err as ReplicateError | undefined)?.code).toBe("TARGET_CONNECTION");
    }
  });
});
