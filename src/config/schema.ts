// The configuration file's schema: every key, its type, default and one line of
// documentation. The loader validates against it, unknown keys get a "did you mean", and
// a test (test/config/reference.test.ts) keeps docs/configuration.md's tables equal to what src/config/reference.ts renders from here.

/** AVRO's rule for names (the openGauss tool's documented rule for every identifier in the log). */
export const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type KeyType =
  | { t: "string" }
  | { t: "int"; min?: number; max?: number }
  | { t: "bool" }
  | { t: "strings" }
  | { t: "enum"; values: readonly string[] }
  /** A table of free-form string → string (e.g. schema_mapping). */
  | { t: "map" };

export interface KeySpec {
  type: KeyType;
  doc: string;
  default?: unknown;
  required?: boolean;
  /** Values never printed (logs, errors, --json). */
  secret?: boolean;
}

interface SectionSpec {
  doc: string;
  keys: Record<string, KeySpec>;
}

const str = { t: "string" } as const;
const bool = { t: "bool" } as const;
const int = (min?: number, max?: number): KeyType => ({ t: "int", min, max });
const oneOf = (...values: string[]): KeyType => ({ t: "enum", values });

/** password / password_env / password_file: at most one may be set (checked by the loader). */
function passwordKeys(who: string): Record<string, KeySpec> {
  return {
    password: { type: str, secret: true, doc: `${who} password, inline (prefer password_env or password_file)` },
    password_env: { type: str, doc: `name of an environment variable holding the ${who} password` },
    password_file: { type: str, doc: `file whose first line is the ${who} password (should not be world-readable)` },
  };
}

function tlsKeys(who: string): Record<string, KeySpec> {
  return {
    mode: {
      type: oneOf("disabled", "required", "verify-ca", "verify-full"),
      default: "disabled",
      doc: `TLS to ${who}: disabled, required (encrypt, no verification), verify-ca, verify-full (CA + host name)`,
    },
    ca: { type: str, doc: "PEM file of the CA that signed the server certificate" },
    cert: { type: str, doc: "PEM client certificate (for certificate authentication)" },
    key: { type: str, doc: "PEM private key of the client certificate" },
  };
}

export const SCHEMA: Record<string, SectionSpec> = {
  source: {
    doc: "The MySQL or MariaDB server to replicate from, joined as a replica.",
    keys: {
      host: { type: str, default: "127.0.0.1", doc: "host name or address" },
      port: { type: int(1, 65535), default: 3306, doc: "TCP port" },
      user: { type: str, required: true, doc: "user with REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: BINLOG MONITOR) and SELECT" },
      ...passwordKeys("source"),
      server_id: {
        type: int(1, 4294967295),
        default: 4242,
        doc: "server id this replica announces; must differ from every server and replica in the topology",
      },
      flavor: { type: oneOf("auto", "mysql", "mariadb"), default: "auto", doc: "server flavour; `auto` detects it from the server version" },
      server_name: {
        type: str,
        default: "source",
        doc: "logical name of the source: the first part of every AVRO schema name (`<server_name>.<db>.<table>.Envelope`); must match `[A-Za-z_][A-Za-z0-9_]*`",
      },
      databases: {
        type: { t: "strings" },
        default: [],
        doc: "databases to capture; empty captures every non-system database (compared in lower case when the source's `lower_case_table_names` is not 0). On a first start, a listed database the server does not have is refused (exit 2, with the closest name) when reading from `current` with `--stop-at-end` (nothing of it could come), else warned about (it may have existed at the start position, or be created later)",
      },
      start: {
        type: str,
        default: "current",
        doc: 'where a first run starts: `"current"` (the server\'s position now), `"gtid:<set>"` (MySQL `uuid:1-5`, MariaDB `0-1-100`), or `"file:<name>:<pos>"`. After a restart, `source` continues from the last transaction in the log instead',
      },
      heartbeat_seconds: { type: int(1, 3600), default: 10, doc: "heartbeat period asked of the server; a silent connection is dropped after three periods" },
    },
  },
  "source.tls": { doc: "TLS to the source.", keys: tlsKeys("the source") },
  transport: {
    doc: "The ordered log between source and sink.",
    keys: {
      kind: { type: oneOf("journal", "kafka"), default: "journal", doc: "the ordered log: a local journal directory, or one Kafka topic with one partition" },
    },
  },
  "transport.journal": {
    doc: "Local append-only journal (single host).",
    keys: {
      dir: { type: str, required: true, doc: "directory of the journal segments (created owner-only)" },
      segment_mib: { type: int(1, 4096), default: 128, doc: "segment size in MiB before a new segment file starts" },
    },
  },
  "transport.kafka": {
    doc: "Apache Kafka (or a Kafka-protocol broker).",
    keys: {
      brokers: { type: { t: "strings" }, required: true, doc: 'bootstrap brokers, e.g. `["kafka1:9092"]`' },
      topic: { type: str, required: true, doc: "the one topic; it must have exactly one partition" },
      client_id: { type: str, default: "gs-replicate", doc: "Kafka client id" },
      group_id: {
        type: str,
        default: "gs-replicate-sink",
        doc: "the consumer group the sink commits its position to, for Kafka's tools (the target's checkpoint decides what is applied)",
      },
      create_topic: { type: bool, default: true, doc: "`source` creates the topic with one partition when it does not exist (`sink` never creates it: it waits for it)" },
    },
  },
  "transport.kafka.sasl": {
    doc: "SASL authentication to Kafka.",
    keys: {
      mechanism: { type: oneOf("plain", "scram-sha-256", "scram-sha-512"), required: true, doc: "SASL mechanism" },
      username: { type: str, required: true, doc: "SASL user" },
      ...passwordKeys("Kafka SASL"),
    },
  },
  "transport.kafka.tls": {
    doc: "TLS to Kafka.",
    keys: {
      enabled: { type: bool, default: false, doc: "connect to the brokers with TLS" },
      ca: { type: str, doc: "PEM CA file" },
      cert: { type: str, doc: "PEM client certificate" },
      key: { type: str, doc: "PEM client key" },
      verify: { type: bool, default: true, doc: "verify the broker certificate" },
    },
  },
  target: {
    doc: "The openGauss (or PostgreSQL) database to replay into.",
    keys: {
      host: { type: str, default: "127.0.0.1", doc: "host name or address" },
      port: { type: int(1, 65535), default: 5432, doc: "TCP port" },
      user: { type: str, required: true, doc: "user that may write the target schemas and create the `gs_replicate` schema" },
      ...passwordKeys("target"),
      database: { type: str, required: true, doc: "target database" },
      dialect: {
        type: oneOf("opengauss", "postgresql"),
        default: "opengauss",
        doc: "SQL dialect and login method of the target",
      },
      schema_mapping: {
        type: { t: "map" },
        default: {},
        doc: 'MySQL database → target schema, e.g. `{ shop = "shop_mig" }`; unmapped databases keep their name. A schema of the target\'s own (`pg_*`, `information_schema`) or of the checkpoint (`gs_replicate`, `gs_replicate_guard`) is refused at load. Several databases may share a schema only if no two of their tables have the same name: `check` fails `schema.databases` naming the pairs, and the sink stops (exit 2) at the first row of the second rather than merge them',
      },
    },
  },
  "target.tls": { doc: "TLS to the target.", keys: tlsKeys("the target") },
  sink: {
    doc: "Replay on the target.",
    keys: {
      workers: { type: int(1, 256), default: 4, doc: "parallel target connections applying independent transactions" },
      preserve_commit_order: { type: bool, default: false, doc: "commit on the target in source commit order (like MySQL's `replica_preserve_commit_order`)" },
      group_transactions: {
        type: int(1, 1000),
        default: 16,
        doc: "while earlier work is being applied, up to this many consecutive source transactions (and 256 changes) are applied as one target transaction; `1` never groups",
      },
      on_error: { type: oneOf("stop"), default: "stop", doc: "a data error stops the sink with exit 1; nothing of the failed transaction is applied" },
      unresponsive_seconds: {
        type: int(10, 86400),
        default: 120,
        doc: 'how long the sink waits on a target that stops answering without closing its connections (a network partition) and does not answer a new connection either; then `TARGET_UNRESPONSIVE`, exit 1 (a target that answers a new connection is busy, and is waited for). See "Faults"',
      },
      zero_date: {
        type: oneOf("error", "null"),
        default: "error",
        doc: "MySQL zero or invalid dates (`'0000-00-00'`, `'2024-02-30'`): `error` stops naming the row; `null` stores NULL, and the DATE/DATETIME/TIMESTAMP columns the sink creates then allow NULL (logged per column: add NOT NULL at cutover). In a column of the target table's primary key, which cannot hold NULL, `null` stores the all-zero date as `-infinity` (it sorts first, as the zero date does in MySQL) and stops (`TARGET_DATA`) on any other invalid date there, which has no key value: correct it on the source and start a fresh migration. Choose `null` before the migration for schemas with zero-date defaults on NOT NULL columns (WordPress and the like): they then replicate with no intervention, and `check --data` counts those NULLs and key `-infinity`s as the zero dates they stand for",
      },
      untranslatable: {
        type: oneOf("record", "stop"),
        default: "record",
        doc: "objects the target does not get (views, triggers, routines, events, CHECK, FULLTEXT/SPATIAL/functional indexes, the partitioning of a table): `record` applies the rest of the statement and lists them in `gs_replicate.skipped_objects` and `check` with what to do at cutover; `stop` stops the sink at each (docs/ddl.md). Changes to rows always stop",
      },
    },
  },
  copy: {
    doc: "gs-replicate copy: the target schema and the initial copy, handed over to source.",
    keys: {
      parallel: { type: int(1, 64), default: 4, doc: "chunks read from the source (and loaded into the target) at once, one connection each" },
      chunk_rows: {
        type: int(1000, 100_000_000),
        default: 200_000,
        doc: "rows per chunk: a table whose primary key starts with an integer column is read in ranges of that column of about this many rows; other tables are one chunk",
      },
      snapshot: {
        type: oneOf("auto", "lock-free", "lock"),
        default: "auto",
        doc: "how each chunk gets a consistent view and the binlog position it stands for: `lock-free` (MariaDB: one `START TRANSACTION WITH CONSISTENT SNAPSHOT` per chunk, whose position the server reports; no lock at all), `lock` (a brief `FLUSH TABLES WITH READ LOCK` while every connection opens its snapshot at one position; MySQL needs it), `auto` (lock-free where the server reports snapshot positions, else lock)",
      },
      lock_timeout_seconds: {
        type: int(1, 600),
        default: 10,
        doc: "with `lock`: the longest the global read lock may wait for running statements and be held; past it `copy` releases it and stops with `COPY_LOCK_TIMEOUT` instead of stalling the source's writers",
      },
    },
  },
  check: {
    doc: "gs-replicate check.",
    keys: {
      statement_timeout_seconds: {
        type: int(0, 604800),
        default: 3600,
        doc: 'longest any query of `check` may run; the server running it stops it after that (`max_statement_time` on MariaDB, `max_execution_time` on MySQL, `statement_timeout` on the target), and the table is reported `ERROR` naming this key. It bounds what a `check` killed with `-9` leaves running on the servers. `0`: no limit. Chunks take well under a second; a table compared in buckets (text key, or no key) is one scan per side, so raise it for such tables that take longer (see "check --data")',
      },
    },
  },
  log: {
    doc: "Logging and progress.",
    keys: {
      level: { type: oneOf("error", "warn", "info", "debug"), default: "info", doc: "log level on stderr" },
      progress_seconds: { type: int(1, 3600), default: 10, doc: "period of the progress line on stderr" },
      format: {
        type: oneOf("plain", "json"),
        default: "plain",
        doc: "plain: one line per message; json: one JSON object per line on stderr for log collectors (time, level, message, and code, where, position when known; see docs/metrics.md)",
      },
    },
  },
  metrics: {
    doc: "Prometheus metrics of source and sink (off without this section).",
    keys: {
      listen: {
        type: str,
        required: true,
        doc: 'where source and sink serve Prometheus metrics on GET /metrics (docs/metrics.md): "127.0.0.1:9187", "[::1]:9187", or a port alone (":9187", "9187"), which binds to loopback (127.0.0.1); port 0 takes a free port; the address served is logged. The endpoint has no authentication: an address other than loopback ("0.0.0.0:9187") is served, with a warning at start (firewall it, or scrape through a proxy or SSH tunnel). A port that cannot be bound stops the command at start, exit 2, METRICS_LISTEN. Give source and sink different ports',
      },
    },
  },
};

/** Sections each subcommand needs; the others may be present and are validated too. */
export const NEEDS = {
  source: ["source", "transport"],
  sink: ["transport", "target"],
  check: ["source"],
  copy: ["source", "target"],
  status: [],
  cutover: ["source", "transport", "target"],
} as const;
