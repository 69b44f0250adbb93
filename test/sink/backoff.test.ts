// src/backoff.ts: the one backoff formula, with the schedules the docs/faults.md table quotes.
import { expect, test } from "bun:test";
import { backoff } from "../../src/backoff.ts";

test("first delay doubling to the cap, retry 1 first", () => {
  const unit = { firstMs: 200, maxMs: 10_000 }; // a unit's retries (worker.ts): 0.2 s doubling to 10 s
  expect([1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => backoff(n, unit))).toEqual([200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  const restart = { firstMs: 1000, maxMs: 30_000 }; // pipeline and log-open restarts: 1 s doubling to 30 s
  expect([1, 5, 6, 10, 1000].map((n) => backoff(n, restart))).toEqual([1000, 16_000, 30_000, 30_000, 30_000]);
  expect(backoff(0, restart)).toBe(1000);
});

test("jitter stays within its fraction of the delay", () => {
  const kafka = { firstMs: 300, maxMs: 30_000, jitter: 0.2 };
  for (let i = 0; i < 200; i++) {
    const d = backoff(3, kafka);
    expect(d).toBeGreaterThanOrEqual(960);
    expect(d).toBeLessThanOrEqual(1440);
  }
});
