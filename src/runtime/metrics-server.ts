// `[metrics] listen`: the registry (metrics.ts) served on GET /metrics by Bun.serve, with the
// standard process metrics Prometheus's own clients export under the same names. Only what
// the process counts anyway is served: no request reaches a server or the log.

import { ReplicateError } from "../errors.ts";
import { log } from "./log.ts";
import { metrics } from "./metrics.ts";

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

interface MetricsServer {
  url: string;
  stop(): void;
}

/** Serves /metrics on host:port (port 0: any free port, printed); `info` labels gs_replicate_info (command, version). */
export function serveMetrics(host: string, port: number, info: Record<string, string>): MetricsServer {
  const startSeconds = Math.round(performance.timeOrigin) / 1000;
  metrics.gaugeFn("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds", () => startSeconds);
  metrics.gaugeFn("process_resident_memory_bytes", "Resident memory size, in bytes", () => process.memoryUsage.rss());
  metrics.counterFn("process_cpu_seconds_total", "User and system CPU time spent, in seconds", () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  metrics.gaugeFn("gs_replicate_info", "Always 1: the command this process runs and its version, as labels", () => [[info, 1]]);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: host,
      port,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path !== "/metrics") return new Response("not found: metrics are on /metrics\n", { status: 404 });
        if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
        return new Response(metrics.expose(), { headers: { "content-type": CONTENT_TYPE } });
      },
    });
  } catch (cause) {
    throw new ReplicateError("METRICS_LISTEN", `[metrics] listen: cannot serve metrics on ${hostPort(host, port)}: ${(cause as Error).message}`, {
      where: "metrics.listen",
      cause,
    });
  }
  const url = `http://${hostPort(host, server.port ?? port)}/metrics`;
  log.info(`metrics: serving ${url}`);
  return { url, stop: () => void server.stop(true) };
}

function hostPort(host: string, port: number): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port}`;
}
