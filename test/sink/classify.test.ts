// Issue 15 (1): the sink's two classifiers of target errors agreed on neither list: a statement
// failing with CONNECT_TIMEOUT or ETIMEDOUT (a target that accepts connections but stops
// answering: a network partition, not a restart) was "connection lost" to the worker but a
// data error to asTargetError, which stopped the sink with exit 1 instead of waiting it out.
import { describe, expect, test } from "bun:test";
import { asTargetError } from "../../src/sink/apply.ts";
import { connectionLost } from "../../src/dialect/errors.ts";
import { ReplicateError } from "../../src/errors.ts";

const ctx = { schemaMapping: {}, zeroDate: "error" as const, describe: "GTID 0-1-7" };
const failure = (code: string) => Object.assign(new Error(`failed: ${code}`), { code });

describe("one classification of target errors", () => {
  test("timeouts and unreachable hosts are a lost connection for both the worker and asTargetError: retried, never a data error", () => {
    for (const code of ["CONNECT_TIMEOUT", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "CONNECTION_CLOSED", "57P01", "08006"]) {
      const e = asTargetError(failure(code), ctx);
      expect({ code, lost: connectionLost(failure(code)), as: e.code, retriable: e.retriable }).toEqual({ code, lost: true, as: "TARGET_CONNECTION", retriable: true });
    }
    // Wrapped, as the pool hands some of them over.
    const wrapped = new ReplicateError("TARGET_CONNECTION", "x", { retriable: true, cause: failure("CONNECT_TIMEOUT") });
    expect(connectionLost(wrapped)).toBe(true);
    for (const code of ["23505", "22P02", "42P01"]) {
      const e = asTargetError(failure(code), ctx);
      expect({ code, lost: connectionLost(failure(code)), as: e.code, retriable: e.retriable }).toEqual({ code, lost: false, as: "TARGET_DATA", retriable: false });
    }
  });
});
