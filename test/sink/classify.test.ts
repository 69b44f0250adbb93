// Issue 15 (1): the sink's two classifiers of target errors agreed on neither list: a statement
// failing with CONNECT_TIMEOUT or ETIMEDOUT (a target that accepts connections but stops
// answering: a network partition, not a restart) was "connection lost" to the worker but a
// data error to asTargetError, which stopped the sink with exit 1 instead of waiting it out.
import { describe, expect, test } from "bun:test";
import { asTargetError } from "../../src/sink/apply.ts";
import { classify, connectionLost, isRetriable, ReplicateError } from "../../src/errors.ts";

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

  test("one classifier for every caller: isRetriable (source, Kafka, sink loop), the worker and asTargetError agree on every error", () => {
    const cases: Array<[unknown, "lost" | "retriable" | "permanent"]> = [
      ...[
        "CONNECT_TIMEOUT",
        "CONNECTION_CLOSED",
        "CONNECTION_ENDED",
        "ETIMEDOUT",
        "EHOSTUNREACH",
        "ENETUNREACH",
        "ECONNRESET",
        "ECONNREFUSED",
        "EPIPE",
        "PROTOCOL_CONNECTION_LOST",
        "57P01",
        "08006",
      ].map((c) => [failure(c), "lost"] as [unknown, "lost"]),
      ...["40001", "40P01", "55P03"].map((c) => [failure(c), "retriable"] as [unknown, "retriable"]),
      ...["23505", "22P02", "42P01", "ER_ACCESS_DENIED_ERROR"].map((c) => [failure(c), "permanent"] as [unknown, "permanent"]),
      [new ReplicateError("TARGET_CONNECTION", "x", { retriable: true, cause: failure("ECONNRESET") }), "lost"],
      [new ReplicateError("TRANSPORT_KAFKA", "x", { retriable: true }), "retriable"],
      // Our own verdict wins over what it wraps.
      [new ReplicateError("TARGET_AUTH", "x", { cause: failure("ECONNRESET") }), "permanent"],
      [new Error("no code"), "permanent"],
    ];
    for (const [err, want] of cases) {
      const retriable = want !== "permanent";
      const as = err instanceof ReplicateError ? err : asTargetError(err, ctx);
      expect({ err: String(err), class: classify(err), isRetriable: isRetriable(err), asTarget: as.retriable }).toEqual({
        err: String(err),
        class: want,
        isRetriable: retriable,
        asTarget: retriable,
      });
    }
  });
});
