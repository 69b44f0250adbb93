// Runs the compiled binary (dist/gs-replicate, built by `make build`), as runbooks do.

import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const BINARY = join(import.meta.dir, "../../dist/gs-replicate");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  if (!existsSync(BINARY)) throw new Error(`${BINARY} is missing: run "make build" (make test does)`);
  const proc = Bun.spawn([BINARY, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), opts.timeoutMs ?? 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

// A test that fails half-way leaves the processes it started in the background running; the
// preload's afterAll kills them (bun test fires no process 'exit' event to hook instead).
const children = new Set<{ pid: number; exited: Promise<number> }>();

export function trackChild(proc: { pid: number; exited: Promise<number> }): void {
  children.add(proc);
  void proc.exited.then(() => children.delete(proc));
}

export function killChildren(): void {
  for (const p of children) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
  children.clear();
}

/** Writes a config file into a fresh temporary directory and returns its path. */
export function writeConfig(toml: string, name = "gs-replicate.toml"): string {
  const dir = mkdtempSync(join(tmpdir(), "gsr-cfg-"));
  const path = join(dir, name);
  writeFileSync(path, toml);
  return path;
}
