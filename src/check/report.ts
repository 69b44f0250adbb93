// The preflight report: one result per check, rendered as one line each for people and as one
// JSON document (--json) for runbooks. Results carry what was found and how to fix it; the
// rendering is the last place text passes before leaving the process, so secrets are scrubbed
// here whatever a server or driver put into an error message.

export type CheckStatus = "ok" | "warn" | "fail";

export interface CheckResult {
  /** Stable identifier, safe to match in scripts: "source.binlog_format". */
  id: string;
  status: CheckStatus;
  /** The object concerned when a check runs per object: "shop.orders", "shop.orders.price". */
  object?: string;
  found: string;
  fix?: string;
}

export function ok(id: string, found: string, object?: string): CheckResult {
  return object === undefined ? { id, status: "ok", found } : { id, status: "ok", object, found };
}

export function warn(id: string, found: string, fix: string, object?: string): CheckResult {
  return object === undefined ? { id, status: "warn", found, fix } : { id, status: "warn", object, found, fix };
}

export function fail(id: string, found: string, fix: string, object?: string): CheckResult {
  return object === undefined ? { id, status: "fail", found, fix } : { id, status: "fail", object, found, fix };
}

/** A check that could not run is a failure that says why (docs/check.md). */
export function notRun(id: string, why: string, fix: string): CheckResult {
  return fail(id, `not checked: ${why}`, fix);
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Replaces every occurrence of each secret by ***. Empty secrets are ignored. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join("***");
  return out;
}

const LABEL: Record<CheckStatus, string> = { ok: "ok  ", warn: "warn", fail: "FAIL" };

/** "FAIL source.binlog_format: STATEMENT — fix: …" on one line (newlines in server text are folded). */
function renderLine(r: CheckResult, secrets: readonly string[] = []): string {
  const what = r.object === undefined ? r.id : `${r.id} [${r.object}]`;
  const fix = r.fix !== undefined && r.status !== "ok" ? ` — fix: ${r.fix}` : "";
  return scrub(`${LABEL[r.status]} ${what}: ${r.found}${fix}`, secrets).replace(/\s*\n\s*/g, " ");
}

interface Counts {
  ok: number;
  warn: number;
  fail: number;
}

function countOf(results: readonly CheckResult[]): Counts {
  const c: Counts = { ok: 0, warn: 0, fail: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

export function renderText(results: readonly CheckResult[], secrets: readonly string[] = []): string {
  const c = countOf(results);
  const lines = results.map((r) => renderLine(r, secrets));
  lines.push(`${c.fail === 0 ? "passed" : "FAILED"}: ${c.ok} ok, ${c.warn} warnings, ${c.fail} failed`);
  return `${lines.join("\n")}\n`;
}

export function renderJson(results: readonly CheckResult[], secrets: readonly string[] = []): string {
  const c = countOf(results);
  const doc = { kind: "preflight", passed: c.fail === 0, counts: c, checks: results };
  return `${scrub(JSON.stringify(doc, null, 2), secrets)}\n`;
}
