// Peak RSS of a run of the binary: VmHWM sampled from /proc until it exits (the kernel's own
// high-water mark, so a short peak between samples is still counted).
import { readFileSync } from "node:fs";
import { BINARY } from "../../test/support/cli.ts";

export interface MeasuredRun {
  seconds: number;
  peakRssMiB: number;
  code: number;
  stdout: string;
  stderr: string;
  /** User + system CPU time of the process (wait4's rusage). */
  cpuSeconds: number;
}

/** GSR_BINARY runs another build (e.g. a saved copy, to compare before and after a change). */
export async function measureRss(args: string[]): Promise<MeasuredRun> {
  const start = performance.now();
  const p = Bun.spawn([process.env.GSR_BINARY ?? BINARY, ...args], { stdout: "pipe", stderr: "pipe" });
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {}
  };
  const timer = setInterval(sample, 20);
  const stdout = new Response(p.stdout).text();
  const stderr = new Response(p.stderr).text();
  const code = await p.exited;
  clearInterval(timer);
  const [out, text] = await Promise.all([stdout, stderr]);
  if (code !== 0) console.error(text);
  const ru = p.resourceUsage();
  return { seconds: (performance.now() - start) / 1000, peakRssMiB: peak, code, stdout: out, stderr: text, cpuSeconds: ru ? Number(ru.cpuTime.total) / 1e6 : 0 };
}
