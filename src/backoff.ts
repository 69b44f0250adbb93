// The one formula behind every wait-and-try-again of the tool: a first delay doubling up to a
// cap, optionally with jitter. Each caller names its schedule where it retries, so that the
// docs/faults.md table can quote it (source reconnects: 0.5 s doubling to 30 s; pipeline and
// log-open restarts: 1 s doubling to 30 s; a unit's retries: 0.2 s doubling to 10 s; …).

interface Schedule {
  /** Delay before the first retry. */
  firstMs: number;
  /** No delay is longer. */
  maxMs: number;
  /** ± this fraction at random (Kafka calls, so that clients do not retry in step). */
  jitter?: number;
}

/** The delay before retry number `retry` (1 for the first): firstMs × 2^(retry−1), at most maxMs. */
export function backoff(retry: number, s: Schedule): number {
  const base = Math.min(s.maxMs, s.firstMs * 2 ** Math.min(Math.max(retry - 1, 0), 30));
  return s.jitter ? Math.round(base * (1 - s.jitter + 2 * s.jitter * Math.random())) : base;
}
