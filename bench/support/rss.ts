// Peak RSS of a run of the binary: VmHWM sampled from /proc until it exits (the kernel's own
// high-water mark, so a short peak between samples is still counted).
import { readFileSync } from "node:fs";
import { BINARY } from "../../test/support/cli.ts";

export interface MeasuredRun {
  seconds: number;
  peakRssMiB: number;
  code: number;
  stderr: string;
}

/** GSR_BINARY runs another build (e.g. a saved copy, to compare before and after a change). */
export async function measureRss(args: string[]): Promise<MeasuredRun> {
  const start = performance.now();
  const p = Bun.spawn([process.env.GSR_BINARY ?? BINARY, ...args], { stdout: "ignore", stderr: "pipe" });
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {}
  };
  const timer = setInterval(sample, 20);
  const stderr = new Response(p.stderr).text();
  const code = await p.exited;
  clearInterval(timer);
  const text = await stderr;
  if (code !== 0) console.error(text);
  return { seconds: (performance.now() - start) / 1000, peakRssMiB: peak, code, stderr: text };
}
