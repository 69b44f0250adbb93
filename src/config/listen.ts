// `[metrics] listen`: "host:port", "[ipv6]:port", or a port alone (":9187" or "9187"), which
// binds to 127.0.0.1. Metrics have no authentication: an address other than loopback serves
// them to whoever can reach it, which the loader warns about (it may be meant: Prometheus on
// another host), rather than refuse.

interface ListenAddress {
  host: string;
  /** 0: any free port (the one chosen is logged). */
  port: number;
}

export function parseListen(text: string): ListenAddress | undefined {
  const m = /^(?:(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):)?(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

/** Whether `host` is this host's loopback: "localhost", 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || /^(0{0,4}:){2,7}0{0,3}1$/.test(host) || host === "::1";
}
