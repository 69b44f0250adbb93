// SIGINT/SIGTERM (and SIGHUP: a closed terminal or ssh session) ask for a clean stop: the running command finishes or rolls back what is in
// flight, flushes, and exits 0. A second signal exits at once (exit 1).
//
// A stop also ends every wait for an outage (a reconnect backoff, a target or the brokers
// being away): those sleeps take the stop signal, and a failure met after the stop because
// an outage was given up is a stop, not an error. Nothing is lost by it: the log's tail
// (source) and the target's checkpoint (sink) say where a restart resumes.
import { log } from "./log.ts";

/** How long the last log writes may take after a stop before they are given up (a healthy log takes them in milliseconds). */
const STOP_GRACE_MS = 1000;

export function stopSignal(): AbortSignal {
  const ctl = new AbortController();
  const onSignal = (sig: string) => {
    if (ctl.signal.aborted) {
      log.warn(`${sig} again: exiting now`);
      process.exit(1);
    }
    log.info(`${sig}: stopping cleanly (send it again to exit at once)`);
    ctl.abort();
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGHUP", () => onSignal("SIGHUP"));
  return ctl.signal;
}

/** Aborts `ms` after `signal` does. */
export function afterGrace(signal: AbortSignal, ms = STOP_GRACE_MS): AbortSignal {
  const ctl = new AbortController();
  const arm = () => setTimeout(() => ctl.abort(), ms).unref?.();
  if (signal.aborted) arm();
  else signal.addEventListener("abort", arm, { once: true });
  return ctl.signal;
}

/** Sleeps `ms`, or less if `signal` aborts first. */
export function sleepUnlessStopped(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return Bun.sleep(ms);
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
