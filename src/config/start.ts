// The `[source] start` value: where a first run begins reading the binlog.

type StartPosition = { kind: "current" } | { kind: "gtid"; set: string } | { kind: "file"; file: string; pos: number };

export const START_FORMS = '"current", "gtid:<set>" (MySQL uuid:1-5 or MariaDB domain-server-seq lists) or "file:<name>:<pos>"';

// The syntax only (binlog/gtid.ts reads them): MariaDB domain-server-seq lists, MySQL uuid:intervals lists.
const MARIADB_GTIDS = /^\d+-\d+-\d+(,\d+-\d+-\d+)*$/;
const UUID = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}";
const MYSQL_GTID_SET = new RegExp(`^${UUID}(:\\d+(-\\d+)?)+(,${UUID}(:\\d+(-\\d+)?)+)*$`);

/** Returns undefined when the text is malformed; the loader turns that into a config error. */
export function parseStart(text: string): StartPosition | undefined {
  if (text === "current") return { kind: "current" };
  if (text.startsWith("gtid:")) {
    const set = text.slice(5).trim();
    return MARIADB_GTIDS.test(set.replace(/\s+/g, "")) || MYSQL_GTID_SET.test(set.replace(/\s+/g, "")) ? { kind: "gtid", set } : undefined;
  }
  if (text.startsWith("file:")) {
    const rest = text.slice(5);
    const colon = rest.lastIndexOf(":");
    if (colon <= 0) return undefined;
    const pos = Number(rest.slice(colon + 1));
    if (!Number.isSafeInteger(pos) || pos < 4) return undefined;
    return { kind: "file", file: rest.slice(0, colon), pos };
  }
  return undefined;
}
