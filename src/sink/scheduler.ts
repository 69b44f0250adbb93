// Dependency scheduler of the sink: decides when each transaction of the ordered log may start
// on the target so that independent transactions replay in parallel while transactions that
// conflict keep their source order. Pure logic, no I/O; the applier drives it.
//
// ALGORITHM
//
// Transactions are numbered seq = 0, 1, 2, … in log order and submitted in that order. For
// each one the scheduler derives the transactions it waits for; dependencies only ever point
// to smaller seqs, so waits never form a cycle. The
// low-water mark L is the smallest seq not yet committed (every seq below L has committed).
// A transaction T waits for two kinds of things:
//
//  1. A watermark d: T starts only once L > d, i.e. every seq ≤ d has committed. d is the
//     largest of:
//       - barrier: T.barrier (DDL, anything that must run alone) gives d = T.seq − 1, and
//         every later transaction gets d ≥ T.seq, so a barrier runs alone;
//       - logical clock (mode "clock", or "auto" when T has one; MySQL): T may start once
//         every transaction of the same binlog file with sequence_number ≤ T.last_committed
//         has committed (the rule of MySQL's LOGICAL_CLOCK applier). Sequence numbers grow in
//         log order within a file, so those transactions are exactly the file's seqs up to
//         the last one whose sequence_number ≤ last_committed (found by binary search):
//         d = that seq. The counters restart in every binlog file, so a change of file is a
//         barrier: d ≥ (seq of the file's first transaction) − 1, i.e. nothing of a new file
//         starts before everything of the old one committed. last_committed 0 (or pointing
//         before the first transaction we saw of the file, e.g. after a resume) thus means
//         "depends on nothing in this file". A clock that breaks these rules (sequence_number
//         not increasing, last_committed ≥ sequence_number) makes T wait for everything;
//       - mode "serial", and a "clock" mode transaction without a clock: d = T.seq − 1;
//       - in "auto", the first transaction after a switch between clock-driven and
//         writeset-driven ones is a barrier: neither regime knows what the other touched.
//     When a transaction has both a clock and a writeset, "auto" uses the clock: MySQL ≥ 8.0
//     with binlog_transaction_dependency_tracking=WRITESET (always, from 8.4) already folds
//     the source's own writesets, computed from whole rows with unique and foreign keys,
//     into last_committed, and falls back to commit order where they are unsafe.
//  2. Writeset (mode "writeset", or "auto" without a clock; MariaDB, gtid_mode=OFF): T waits
//     for the latest earlier uncommitted transaction that wrote each of its keys (writeset.ts
//     says what the keys are). Remembering only the latest writer per key is enough: that
//     writer itself waited for the earlier ones. A key is forgotten when its latest writer
//     commits, so the key table holds only keys of uncommitted transactions. The table is
//     indexed by a 53-bit hash of the key: a collision can only add a needless wait.
//
// A transaction whose dependencies are met is ready; ready transactions start lowest seq
// first, at most `workers` at a time (a start hands the applier a free connection). Giving
// the lowest seq the first free worker is also what makes preserveCommitOrder deadlock-free:
// the transaction at L always has its dependencies met, so if it is not running it is first
// in line for the next worker; a pool full of later transactions waiting for their commit
// turn therefore never starves it.
//
// Commit order: by default independent transactions commit in whatever order they finish.
// With preserveCommitOrder (like MySQL's replica_preserve_commit_order) a worker that finished
// applying T awaits waitCommitTurn(T.seq), which resolves once L = T.seq, and only then commits.
//
// Backpressure and memory: at most maxInFlight transactions submitted but not committed, and
// at most maxWindow seqs between L and the newest submission (one long transaction holding L
// back must not let the bookkeeping of the ones behind it grow without bound; MySQL's
// replica_checkpoint_group plays the same role). Work per transaction is O(keys + log window)
// with no timers and no scan of the in-flight set.

import { ReplicateError } from "../errors.ts";
import { keyHash, type WriteKey } from "./writeset.ts";

export type { WriteKey } from "./writeset.ts";

export type SchedMode = "auto" | "clock" | "writeset" | "serial";

/** MySQL's logical clock as the scheduler compares it: only within one binlog file (binlog/transactions.ts LogicalClock is the raw, per-flavour one). */
export interface FileLogicalClock {
  /** Binlog file the transaction was read from: the clock's values restart in every file. */
  file: string;
  lastCommitted: number;
  sequenceNumber: number;
}

export interface SchedTx {
  /** Log order position: 0 for the first submission, then +1 each. */
  seq: number;
  clock?: FileLogicalClock | null;
  /** Writeset (writeset.ts); ignored when the clock decides. */
  keys: readonly WriteKey[];
  /** Must run alone: waits for all earlier to commit, all later wait for it. */
  barrier: boolean;
}

export interface SchedulerOptions {
  mode: SchedMode;
  preserveCommitOrder: boolean;
  /** Parallel target connections: at most this many transactions started and not committed. */
  workers: number;
  /** At most this many transactions submitted and not committed. */
  maxInFlight: number;
  /** At most this many seqs from the low-water mark to the newest submission; default 65536. */
  maxWindow?: number;
}

interface SchedStats {
  submitted: number;
  committed: number;
  /** Waiting for dependencies. */
  waiting: number;
  /** Dependencies met, waiting for a worker. */
  ready: number;
  running: number;
  peakRunning: number;
  /** Submitted and not committed. */
  inFlight: number;
  lowWater: number;
  /** Keys remembered for uncommitted writers. */
  keys: number;
  barriers: number;
  /** Had no unmet dependency when submitted. */
  independent: number;
  /** Transactions that had to wait for everything earlier because their clock was missing or broken. */
  clockFallbacks: number;
}

const WAITING = 0;
const READY = 1;
const RUNNING = 2;
const COMMITTED = 3;
const FAILED = 4;
type State = typeof WAITING | typeof READY | typeof RUNNING | typeof COMMITTED | typeof FAILED;

interface Entry {
  seq: number;
  state: State;
  /** Unmet dependencies: writers not yet committed, plus 1 while the watermark is not reached. */
  pending: number;
  /** Clock sequence_number (−1 without a clock): binary search key within a file. */
  sn: number;
  /** Hashes of the keys this transaction wrote, to forget them at commit. */
  keys: number[] | null;
  /** Last seq that registered as dependent: one dependency per writer even when keys repeat. */
  lastDependent: number;
  /** Transactions that wait for this one to commit. */
  dependents: Entry[] | null;
  /** Transactions that wait for the low-water mark to pass this seq. */
  watermarkWaiters: Entry[] | null;
  start: Deferred | null;
  turn: Deferred | null;
}

interface Deferred {
  resolve: () => void;
  reject: (e: unknown) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const DEFAULT_WINDOW = 65_536;

export class Scheduler {
  private readonly mode: SchedMode;
  private readonly preserve: boolean;
  private readonly workers: number;
  private readonly maxInFlight: number;
  private readonly maxWindow: number;

  /** Entries of seqs [low, next), at index seq & mask. */
  private ring: Array<Entry | undefined>;
  private mask: number;
  private next = 0;
  private low = 0;
  /** Key hash → seq of its latest uncommitted writer. */
  private readonly writers = new Map<number, number>();
  /** Min-heap of seqs whose dependencies are met. */
  private readonly readyHeap: number[] = [];

  private running = 0;
  private uncommitted = 0;
  private lastBarrier = -1;
  private clockFile: string | null = null;
  private fileStart = 0;
  private lastSn = -1;
  /** Whether the previous transaction was ordered by the clock (null before the first). */
  private lastByClock: boolean | null = null;
  private roomWaiter: Deferred | null = null;
  private stopped: unknown = null;
  private isStopped = false;

  private st = { committed: 0, peakRunning: 0, barriers: 0, independent: 0, clockFallbacks: 0, waiting: 0 };

  constructor(opts: SchedulerOptions) {
    const int = (v: number, name: string) => {
      if (!Number.isInteger(v) || v < 1) throw new ReplicateError("INTERNAL", `scheduler: ${name} must be a positive integer, got ${v}`);
    };
    int(opts.workers, "workers");
    int(opts.maxInFlight, "maxInFlight");
    const window = opts.maxWindow ?? Math.max(DEFAULT_WINDOW, opts.maxInFlight);
    int(window, "maxWindow");
    if (window < opts.maxInFlight) throw new ReplicateError("INTERNAL", `scheduler: maxWindow (${window}) is below maxInFlight (${opts.maxInFlight})`);
    this.mode = opts.mode;
    this.preserve = opts.preserveCommitOrder;
    this.workers = opts.workers;
    this.maxInFlight = opts.maxInFlight;
    this.maxWindow = window;
    let cap = 1;
    while (cap < window) cap *= 2;
    this.ring = new Array<Entry | undefined>(cap);
    this.mask = cap - 1;
  }

  /** True when submit() may be called now. */
  hasRoom(): boolean {
    return this.uncommitted < this.maxInFlight && this.next - this.low < this.maxWindow;
  }

  /** Resolves when submit() may be called (backpressure). One submitter only. */
  room(): Promise<void> {
    if (this.isStopped) return Promise.reject(this.stopped);
    if (this.hasRoom()) return RESOLVED;
    if (!this.roomWaiter) return new Promise<void>((resolve, reject) => (this.roomWaiter = { resolve, reject }));
    throw misuse("room() awaited twice: the scheduler has one submitter");
  }

  /**
   * Registers the next transaction in log order. Resolves when it may start, with a worker
   * reserved for it; rejects if the sink stops (failed()) before that.
   */
  submit(tx: SchedTx): Promise<void> {
    if (this.isStopped) throw misuse(`submit of seq ${tx.seq} after the scheduler stopped`);
    if (tx.seq !== this.next) throw misuse(`submit of seq ${tx.seq}, expected ${this.next}: submissions must follow log order`);
    if (!this.hasRoom()) throw misuse(`submit of seq ${tx.seq} without room: await room() first`);
    const seq = tx.seq;
    const e: Entry = {
      seq,
      state: WAITING,
      pending: 0,
      sn: -1,
      keys: null,
      lastDependent: -1,
      dependents: null,
      watermarkWaiters: null,
      start: null,
      turn: null,
    };
    this.ring[seq & this.mask] = e;
    this.next = seq + 1;
    this.uncommitted++;

    const clock = tx.clock ?? null;
    const byClock = this.mode === "clock" || (this.mode === "auto" && clock !== null);
    let d = this.lastBarrier;
    if (tx.barrier || this.mode === "serial") {
      d = seq - 1;
      if (tx.barrier) {
        this.lastBarrier = seq;
        this.st.barriers++;
      }
    }
    if (byClock) d = Math.max(d, this.clockWatermark(e, clock));
    if (!tx.barrier && this.lastByClock !== null && this.lastByClock !== byClock) {
      // Neither regime knows what the other's transactions touched: order as a barrier.
      d = seq - 1;
      this.lastBarrier = seq;
    }
    // After a barrier nothing earlier can still be running: no switch to guard against.
    this.lastByClock = tx.barrier ? null : byClock;
    if (!byClock && !tx.barrier && this.mode !== "serial") this.addKeyDeps(e, tx.keys, d);

    if (d >= this.low) {
      e.pending++;
      const w = this.entry(d);
      (w.watermarkWaiters ??= []).push(e);
    }
    if (e.pending === 0 && this.readyHeap.length === 0 && this.running < this.workers) {
      this.st.independent++;
      this.start(e);
      return RESOLVED;
    }
    const p = new Promise<void>((resolve, reject) => (e.start = { resolve, reject }));
    if (e.pending === 0) {
      this.st.independent++;
      this.makeReady(e);
      this.dispatch();
    } else {
      this.st.waiting++;
    }
    return p;
  }

  /** The transaction committed on the target. */
  committed(seq: number): void {
    const e = this.ring[seq & this.mask];
    if (!e || e.seq !== seq || seq < this.low || seq >= this.next) throw misuse(`committed(${seq}): no such uncommitted transaction`);
    if (e.state !== RUNNING) throw misuse(`committed(${seq}) for a transaction that is not running`);
    e.state = COMMITTED;
    e.start = null;
    this.running--;
    this.uncommitted--;
    this.st.committed++;
    if (e.keys) {
      for (const k of e.keys) if (this.writers.get(k) === seq) this.writers.delete(k);
      e.keys = null;
    }
    if (e.dependents) {
      for (const dep of e.dependents) this.release(dep);
      e.dependents = null;
    }
    if (seq === this.low) this.advance();
    if (this.isStopped) return;
    this.dispatch();
    if (this.roomWaiter && this.hasRoom()) {
      const w = this.roomWaiter;
      this.roomWaiter = null;
      w.resolve();
    }
  }

  /**
   * The transaction failed: the sink stops. Every pending start, commit turn and room wait
   * rejects with `cause`; transactions still running may report committed() so that
   * lowWater() stays exact for the checkpoint. Meant for error paths, so it accepts any
   * submitted seq, even one already committed or already failed.
   */
  failed(seq: number, cause?: unknown): void {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.next) throw misuse(`failed(${seq}): never submitted`);
    const e = seq >= this.low ? this.entry(seq) : undefined;
    if (e && e.state !== COMMITTED && e.state !== FAILED) {
      if (e.state === RUNNING) this.running--;
      if (e.state === WAITING) this.st.waiting--;
      e.state = FAILED;
    }
    if (this.isStopped) return;
    this.isStopped = true;
    this.stopped = cause ?? new ReplicateError("INTERNAL", `scheduler stopped: transaction ${seq} failed`);
    for (let s = this.low; s < this.next; s++) {
      const x = this.entry(s);
      const pending = [x.start, x.turn];
      x.start = null;
      x.turn = null;
      for (const d of pending) d?.reject(this.stopped);
    }
    this.readyHeap.length = 0;
    if (this.roomWaiter) {
      this.roomWaiter.reject(this.stopped);
      this.roomWaiter = null;
    }
  }

  /** Every seq below this has committed. */
  lowWater(): number {
    return this.low;
  }

  /** Whether seq may commit now (always true without preserveCommitOrder). */
  mayCommit(seq: number): boolean {
    return !this.preserve || seq === this.low;
  }

  /** Resolves when seq may commit: at once without preserveCommitOrder, else once every earlier seq committed. */
  waitCommitTurn(seq: number): Promise<void> {
    if (!this.preserve) return RESOLVED;
    const e = this.ring[seq & this.mask];
    if (!e || e.seq !== seq || seq < this.low || seq >= this.next || e.state !== RUNNING) {
      throw misuse(`waitCommitTurn(${seq}) for a transaction that is not running`);
    }
    if (this.isStopped) return Promise.reject(this.stopped);
    if (seq === this.low) return RESOLVED;
    if (e.turn) throw misuse(`waitCommitTurn(${seq}) called twice`);
    return new Promise<void>((resolve, reject) => (e.turn = { resolve, reject }));
  }

  stats(): SchedStats {
    return {
      submitted: this.next,
      committed: this.st.committed,
      waiting: this.st.waiting,
      ready: this.readyHeap.length,
      running: this.running,
      peakRunning: this.st.peakRunning,
      inFlight: this.uncommitted,
      lowWater: this.low,
      keys: this.writers.size,
      barriers: this.st.barriers,
      independent: this.st.independent,
      clockFallbacks: this.st.clockFallbacks,
    };
  }

  // ------------------------------------------------------------------ internals

  private entry(seq: number): Entry {
    return this.ring[seq & this.mask]!;
  }

  /** Watermark from the logical clock (see ALGORITHM, 1). */
  private clockWatermark(e: Entry, clock: FileLogicalClock | null): number {
    const seq = e.seq;
    if (clock === null) {
      this.st.clockFallbacks++;
      this.clockFile = null;
      return seq - 1;
    }
    if (clock.file !== this.clockFile) {
      this.clockFile = clock.file;
      this.fileStart = seq;
      this.lastSn = -1;
    }
    const { lastCommitted: lc, sequenceNumber: sn } = clock;
    if (!Number.isSafeInteger(lc) || !Number.isSafeInteger(sn) || lc < 0 || lc >= sn || sn <= this.lastSn) {
      this.st.clockFallbacks++;
      // Later transactions of the file must not binary-search across the broken stretch.
      this.fileStart = seq + 1;
      this.lastSn = -1;
      return seq - 1;
    }
    e.sn = sn;
    this.lastSn = sn;
    // Largest s in [lo, seq) with sn(s) ≤ lc; entries below `low` are gone but committed.
    // A clockless barrier inside the range has sn −1: it can only make `found` larger, i.e.
    // the wait longer, never shorter.
    const lo = Math.max(this.low, this.fileStart);
    let a = lo;
    let b = seq - 1;
    let found = lo - 1;
    while (a <= b) {
      const m = (a + b) >>> 1;
      if (this.entry(m).sn <= lc) {
        found = m;
        a = m + 1;
      } else {
        b = m - 1;
      }
    }
    return found;
  }

  private addKeyDeps(e: Entry, keys: readonly WriteKey[], watermark: number): void {
    const seq = e.seq;
    if (keys.length === 0) return;
    const hashes = new Array<number>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keyHash(keys[i]!);
      hashes[i] = k;
      const w = this.writers.get(k);
      this.writers.set(k, seq);
      // w is uncommitted (committed writers are forgotten); one covered by the watermark adds
      // nothing, and w === seq is a key listed twice.
      if (w === undefined || w === seq || w <= watermark) continue;
      const we = this.entry(w);
      if (we.lastDependent === seq) continue;
      we.lastDependent = seq;
      (we.dependents ??= []).push(e);
      e.pending++;
    }
    e.keys = hashes;
  }

  /** Moves the low-water mark over committed seqs, waking what waited for it. */
  private advance(): void {
    while (this.low < this.next) {
      const e = this.entry(this.low);
      if (e.state !== COMMITTED) break;
      this.ring[this.low & this.mask] = undefined;
      this.low++;
      if (e.watermarkWaiters) for (const w of e.watermarkWaiters) this.release(w);
    }
    if (this.low < this.next) {
      const head = this.entry(this.low);
      if (head.turn) {
        const t = head.turn;
        head.turn = null;
        t.resolve();
      }
    }
  }

  private release(e: Entry): void {
    if (--e.pending === 0 && e.state === WAITING) {
      this.st.waiting--;
      this.makeReady(e);
    }
  }

  private makeReady(e: Entry): void {
    e.state = READY;
    heapPush(this.readyHeap, e.seq);
  }

  private dispatch(): void {
    const h = this.readyHeap;
    while (h.length > 0 && this.running < this.workers && !this.isStopped) {
      const e = this.entry(heapPop(h));
      const d = e.start;
      e.start = null;
      this.start(e);
      d?.resolve();
    }
  }

  private start(e: Entry): void {
    e.state = RUNNING;
    if (++this.running > this.st.peakRunning) this.st.peakRunning = this.running;
  }
}

function misuse(message: string): ReplicateError {
  return new ReplicateError("INTERNAL", `scheduler misuse: ${message}`);
}

function heapPush(h: number[], v: number): void {
  let i = h.length;
  h.push(v);
  while (i > 0) {
    const p = (i - 1) >> 1;
    const pv = h[p]!;
    if (pv <= v) break;
    h[i] = pv;
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): number {
  const top = h[0]!;
  const last = h.pop()!;
  const n = h.length;
  if (n > 0) {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && h[r]! < h[l]! ? r : l;
      if (h[c]! >= last) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
  return top;
}
