// Journal throughput: `bun bench/journal.ts [records] [dir]`.
// Writes 200-byte values (16-byte keys) in batches of 1000 with a sync() after every batch,
// as `source` would at transaction boundaries, then reads everything back and checks the
// offsets. Prints figures only; it asserts nothing about speed.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openJournalReader, openJournalWriter } from "../src/transport/journal.ts";
import type { LogRecord } from "../src/log-contract.ts";

const total = Number(process.argv[2] ?? 2_000_000);
const base = process.argv[3] ?? mkdtempSync(join(tmpdir(), "gsr-bench-journal-"));
const dir = join(base, "journal");
const BATCH = 1000;
const VALUE_BYTES = 200;
const KEY_BYTES = 16;

// Distinct bytes per batch slot so the CRC has real work; reused across batches (the journal copies).
const batch: LogRecord[] = Array.from({ length: BATCH }, (_, i) => ({
  key: new Uint8Array(KEY_BYTES).fill(i & 0xff),
  value: new Uint8Array(VALUE_BYTES).map((_, j) => (i * 31 + j) & 0xff),
}));
const frame = 12 + KEY_BYTES + VALUE_BYTES;

function report(what: string, records: number, ms: number): void {
  const mb = (records * frame) / 1e6;
  console.log(
    `${what.padEnd(6)} ${records.toLocaleString("en")} records in ${(ms / 1000).toFixed(2)} s: ` +
      `${Math.round(records / (ms / 1000)).toLocaleString("en")} records/s, ${(mb / (ms / 1000)).toFixed(0)} MB/s ` +
      `(${frame}-byte frames)`,
  );
}

try {
  const w = await openJournalWriter({ dir, segment_mib: 128 });
  let t = performance.now();
  for (let n = 0; n < total; n += BATCH) {
    await w.append(n + BATCH <= total ? batch : batch.slice(0, total - n));
    await w.sync();
  }
  await w.close();
  report("write", total, performance.now() - t);

  const r = await openJournalReader({ dir });
  t = performance.now();
  let expected = 0n;
  let bytes = 0;
  for await (const x of r.read(0n, { follow: false })) {
    if (x.offset !== expected) throw new Error(`offset ${x.offset}, expected ${expected}`);
    expected++;
    bytes += x.record.value.length;
  }
  report("read", Number(expected), performance.now() - t);
  if (Number(expected) !== total || bytes !== total * VALUE_BYTES) throw new Error("read back a different journal");

  t = performance.now();
  let seen = 0;
  for await (const _ of r.read(BigInt(Math.floor(total * 0.9)), { follow: false })) seen++;
  console.log(`seek   read(from=90%) delivered ${seen.toLocaleString("en")} records in ${(performance.now() - t).toFixed(0)} ms`);
  await r.close();
} finally {
  if (process.argv[3] === undefined) rmSync(base, { recursive: true, force: true });
}
