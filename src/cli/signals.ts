// SIGINT/SIGTERM ask for a clean stop: the running command finishes or rolls back what is in
// flight, flushes, and exits 0. A second signal exits at once (exit 1).

import { log } from "./log.ts";

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
  return ctl.signal;
}
