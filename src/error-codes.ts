// The stable error codes: ONE table (ERROR_CODES), from which the ErrorCode type derives (so a
// code cannot be thrown without being documented here), ReplicateError takes its default exit
// kind, and docs/errors.md is rendered (renderErrorTable; test/errors.test.ts keeps the two
// identical; print it with bun -e 'console.log((await import("./src/error-codes.ts")).renderErrorTable())').
// Codes are a stable interface: runbooks and scripts match them, so they are never renamed.

interface ErrorCodeInfo {
  /** Exit code of a command that this error stops; null for a code that is only logged. */
  readonly exit: 1 | 2 | 3 | null;
  /** Whether the command waits and tries again by itself before it stops with this code. */
  readonly retried: "yes" | "no" | "if transient";
  /** What happened, in one sentence. */
  readonly meaning: string;
  /** What the operator does about it, in one sentence. */
  readonly action: string;
}

export const ERROR_CODES = {
  // configuration and usage (exit 2)
  CONFIG_UNREADABLE: {
    exit: 2,
    retried: "no",
    meaning: "The configuration file cannot be read (missing, no permission, or larger than the size limit).",
    action: "Check the --config path and the file's permissions.",
  },
  CONFIG_SYNTAX: {
    exit: 2,
    retried: "no",
    meaning: "The configuration file is not valid TOML; the message gives the line and column.",
    action: "Correct the TOML at that line.",
  },
  CONFIG_MISSING_KEY: {
    exit: 2,
    retried: "no",
    meaning: "A required key or section is missing for this command (e.g. [target] for check --data, the section [transport] kind names).",
    action: "Add the key or section named in the message.",
  },
  CONFIG_WRONG_TYPE: {
    exit: 2,
    retried: "no",
    meaning: "A key or section has the wrong TOML type (a string where an integer is expected, a value where a table is expected).",
    action: "Write the value with the type the message expects.",
  },
  CONFIG_BAD_VALUE: {
    exit: 2,
    retried: "no",
    meaning:
      "A value has the right type but is not acceptable: out of range, a bad start position or GTID set, an unreadable TLS file, a database the source lacks, colliding schema_mapping.",
    action: "Correct the key named in the message (where) as the message says.",
  },
  CONFIG_UNKNOWN_KEY: {
    exit: 2,
    retried: "no",
    meaning: "The file has a key gs-replicate does not know (usually a typo); the closest valid key is suggested.",
    action: "Rename or remove the key.",
  },
  CONFIG_SECRET_UNREADABLE: {
    exit: 2,
    retried: "no",
    meaning: "The environment variable named by password_env is not set, or the file named by password_file cannot be read.",
    action: "Set the variable or fix the file for the user that runs gs-replicate (their names are not shown, in case they hold the password).",
  },
  USAGE: {
    exit: 2,
    retried: "no",
    meaning: "Bad command line: an unknown command or option, options that do not go together, or an unknown table in --tables.",
    action: "Correct the command line (gs-replicate --help).",
  },
  METRICS_LISTEN: {
    exit: 2,
    retried: "no",
    meaning: "[metrics] listen names an address source or sink cannot serve metrics on (the port is taken, or the address is not one of this host's).",
    action: "Choose a free port, or an address of this host, in [metrics] listen.",
  },
  // binlog reading (source)
  BINLOG_TRUNCATED: {
    exit: 1,
    retried: "no",
    meaning: "A binlog event is shorter than its header or declared size says.",
    action: "Check the source's binlog file at the position given (mysqlbinlog); if it is damaged, start a fresh migration.",
  },
  BINLOG_CHECKSUM: {
    exit: 1,
    retried: "no",
    meaning: "A binlog event's CRC32 checksum does not match: the binlog file or the network stream is corrupt.",
    action: "Verify the binlog file at that position (mysqlbinlog --verify-binlog-checksum): damaged, start a fresh migration; clean, the network corrupted it: restart source.",
  },
  BINLOG_UNKNOWN_EVENT: {
    exit: 1,
    retried: "no",
    meaning: "The source wrote a binlog event type gs-replicate does not know and that is not marked ignorable.",
    action: "Check that the server version is a supported one; report the event type and server version.",
  },
  BINLOG_BAD_VALUE: {
    exit: 1,
    retried: "no",
    meaning: "A binlog event's content cannot be decoded (inconsistent sizes, bad compressed payload, rows outside a transaction).",
    action: "Inspect the event at the position given with mysqlbinlog and report it; do not skip it, or rows are lost.",
  },
  BINLOG_UNSUPPORTED: {
    exit: 1,
    retried: "no",
    meaning:
      "The binlog holds something gs-replicate does not replicate: statement-based DML, XA transactions, tagged GTIDs, an INCIDENT event, an unknown checksum or compression.",
    action: "Follow the message: e.g. set binlog_format=ROW, commit XA transactions normally; after an INCIDENT compare with check --data and resynchronise the tables.",
  },
  BINLOG_SCHEMA_MISSING: {
    exit: 1,
    retried: "no",
    meaning: "The schema that rows were written with cannot be known (binlog_row_metadata below FULL, and no schema history covers the position).",
    action: 'Set binlog_row_metadata=FULL on the source, or start after the DDL named with a full copy taken after it (see "Faults").',
  },
  SOURCE_CONNECTION: {
    exit: 1,
    retried: "if transient",
    meaning: "The source cannot be reached, refused the login or TLS, or closed or went silent on the replication connection.",
    action: "Dropped connections are reconnected indefinitely; a refused login or TLS failure stops at once: fix [source] credentials or TLS.",
  },
  SOURCE_SERVER_ERROR: {
    exit: 1,
    retried: "no",
    meaning: "The source server refused what replication needs (log_bin OFF, the binlog dump refused) or answered a catalog query with nothing.",
    action: "Follow the message (e.g. enable log_bin and restart the server; grant REPLICATION SLAVE, REPLICATION CLIENT); gs-replicate check lists what is missing.",
  },
  SOURCE_POSITION_PURGED: {
    exit: 1,
    retried: "no",
    meaning: "The start or resume position was purged from the source's binlogs; the message names the oldest position left.",
    action: "The changes in between are lost to replication: start a fresh migration and keep binlogs longer (binlog_expire_logs_seconds).",
  },
  SOURCE_POSITION_UNKNOWN: {
    exit: 1,
    retried: "no",
    meaning: "The start position was never written by this source (a binlog file it has not written, a GTID beyond its history).",
    action: "Check [source] start and that this is the server the position was taken from.",
  },
  // events and transports
  AVRO_NAME: {
    exit: 1,
    retried: "no",
    meaning: "A database, table or column name breaks the AVRO naming rule [A-Za-z_][A-Za-z0-9_]* used by the log's schemas.",
    action: "Rename it on the source, or leave its database out of [source] databases.",
  },
  AVRO_ENCODE: {
    exit: 1,
    retried: "no",
    meaning: "A value cannot be written to or read from the log's AVRO encoding (no mapping for a type, ENUM/SET without names, a record with an unknown schema).",
    action: "Follow the message (often: set binlog_row_metadata=FULL); a record with an unknown schema means the log was cut or written by another tool.",
  },
  TRANSPORT_TOPIC: {
    exit: 1,
    retried: "if transient",
    meaning: "The Kafka topic is missing, has more than one partition, skips offsets (compacted or transactional), or cannot be created.",
    action: "Create the topic with exactly one partition and cleanup.policy=delete, or set create_topic = true; a sink waits about 2.5 minutes for source to create it.",
  },
  TRANSPORT_KAFKA: {
    exit: 1,
    retried: "if transient",
    meaning: "A Kafka call failed: brokers unreachable (retried, then exit), or the topic's offsets are not what this writer expects (another writer on the topic).",
    action: "Check that the brokers are up and reachable; if another source writes to the topic, stop it and restart this one.",
  },
  JOURNAL_CORRUPT: {
    exit: 1,
    retried: "no",
    meaning: "The journal is damaged after it was synced (a segment missing, a record bad, the schema history incomplete); nothing is discarded.",
    action: "Restore the journal directory from a copy taken with source stopped, or start a fresh migration.",
  },
  JOURNAL_TORN_TAIL: {
    exit: null,
    retried: "no",
    meaning: "A warning, not an error: bytes after the journal's last sync (a crash or full disk mid-write) were cut off; source publishes them again from the binlog.",
    action: "Nothing; a sink that stopped short of them catches up once source has run.",
  },
  JOURNAL_IO: {
    exit: 1,
    retried: "no",
    meaning: "Reading or writing the journal failed (disk full, permissions), or another process holds the journal's lock.",
    action: "Free space or fix permissions and restart (the incomplete record is discarded); run one source per journal.",
  },
  // sink and target
  TARGET_CONNECTION: {
    exit: 1,
    retried: "if transient",
    meaning: "The target cannot be reached or a connection dropped (transactions in flight are retried up to 10 times), or TLS failed.",
    action: "Check that the target is up and reachable and [target] host, port and TLS; restarting the sink is safe.",
  },
  TARGET_UNRESPONSIVE: {
    exit: 1,
    retried: "no",
    meaning:
      "The target has answered neither the transactions in flight nor a new connection for [sink] unresponsive_seconds (a network partition); nothing in flight was committed.",
    action: "Check the network path and the server, then start the sink again.",
  },
  TARGET_AUTH: {
    exit: 1,
    retried: "no",
    meaning: "The target refused the login: wrong user or password, or an authentication method gs-replicate does not support.",
    action: "Fix [target] user and password; for an unsupported method, change the pg_hba.conf line or password_encryption_type the message names.",
  },
  TARGET_DATA: {
    exit: 1,
    retried: "no",
    meaning: "The target refused a transaction or value (constraint, missing column, NUL in text, zero date, value too large), or an UPDATE/DELETE did not match exactly one row.",
    action: "Fix the target or [sink] setting the message names and restart the sink (nothing of the transaction was applied); divergence: compare with check --data.",
  },
  TARGET_DDL_INCOMPATIBLE: {
    exit: 1,
    retried: "no",
    meaning: "A DDL statement cannot be translated for the target, or comes inside a very large transaction.",
    action: "Apply an equivalent change on the target by hand, then resume with sink --skip-ddl ID as the message says.",
  },
  TARGET_CHECKPOINT: {
    exit: 1,
    retried: "no",
    meaning: "The checkpoint schema gs_replicate cannot be created, or was dropped or emptied by hand.",
    action: "Grant the sink's user CREATE on the database; if dropped, restore it from a backup taken with the data, or start a fresh migration.",
  },
  TARGET_INCOMPATIBLE: {
    exit: 1,
    retried: "no",
    meaning: "The target database is set up in a way that would change the data (e.g. openGauss compatibility A stores '' as NULL); nothing was applied.",
    action: "Apply the fix the message gives (gs-replicate check reports the same).",
  },
  SINK_LOG_GAP: {
    exit: 1,
    retried: "no",
    meaning: "The log does not continue from the target's checkpoint: records removed by retention, or the journal or topic replaced or cut.",
    action: "Restore the log, or start a fresh migration; raise retention.ms/retention.bytes.",
  },
  SINK_ALREADY_RUNNING: {
    exit: 1,
    retried: "no",
    meaning: "Another sink holds this target database's checkpoint lock, or took it over from this one.",
    action: "Run one sink per target database; the other one carries on from the checkpoint.",
  },
  COPY_UNFINISHED: {
    exit: 1,
    retried: "no",
    meaning: "The target holds a copy ledger (gs_replicate.copy_run) whose copy has not finished: the sink would replay changes onto tables still being loaded.",
    action: "Run gs-replicate copy --config FILE again to finish the copy; the sink starts after it.",
  },
  COPY_OVERLAP: {
    exit: 1,
    retried: "no",
    meaning:
      "A DDL statement in the log changed a copied table between the snapshots of its chunks (some chunks were read before it, some after), so the copy holds the table in two shapes.",
    action: "Start the migration again: a new target database (or drop the copied tables and the gs_replicate schema), a new log, then copy.",
  },
  // check
  CHECK_FAILED: {
    exit: 3,
    retried: "no",
    meaning: "check found a problem: a preflight check failed, tables differ, or a table could not be compared (exit 1 if the --repair-sql file cannot be written).",
    action: "Read the report (each failure says what to do); --repair-sql writes the statements that make the target equal.",
  },
  CHECK_INTERRUPTED: {
    exit: 1,
    retried: "no",
    meaning: "check --data was stopped by a signal; its queries were ended and nothing is concluded about the data.",
    action: "Run the check again.",
  },
  // copy (the initial copy, issue 16)
  COPY_SNAPSHOT: {
    exit: 1,
    retried: "no",
    meaning: "copy cannot get a consistent view of the source with its binlog position (a snapshot connection failed, or the server cannot report a snapshot's position).",
    action: 'Run copy again (finished chunks are kept); with snapshot = "lock-free" on a server without snapshot positions, use "auto".',
  },
  COPY_LOCK_TIMEOUT: {
    exit: 1,
    retried: "no",
    meaning:
      'The global read lock of [copy] snapshot = "lock" would wait behind long statements, or was not granted within lock_timeout_seconds, and was given up so as not to stall the source\'s writers.',
    action: "Run copy again when the statements named have finished, or raise [copy] lock_timeout_seconds.",
  },
  COPY_SCHEMA_CHANGED: {
    exit: 1,
    retried: "no",
    meaning: "A copied table's definition changed on the source while copy read it, so its chunks do not all have the target's shape.",
    action: "Start the migration again: drop the copied tables and the gs_replicate schema on the target, empty the log, and run copy when no DDL runs.",
  },
  COPY_TARGET_NOT_EMPTY: {
    exit: 1,
    retried: "no",
    meaning: "A target table copy would load already holds rows that no copy recorded.",
    action: "Empty or drop it, or run copy --truncate-existing to empty the tables named.",
  },
  COPY_UNTRANSLATABLE: {
    exit: 1,
    retried: "no",
    meaning: "An object of the source schema cannot be created exactly on the target (FULLTEXT, SPATIAL or functional index, CHECK, partitioning).",
    action: "Decide per object, then run copy --skip-object NAME (as listed) to go on without it; it is recorded in gs_replicate.skipped_objects.",
  },
  COPY_NOT_TRANSACTIONAL: {
    exit: 1,
    retried: "no",
    meaning: "A table to copy is not transactional (MyISAM, Aria, MEMORY…), so no snapshot can read it consistently while it is written.",
    action: "Convert it to InnoDB, or make sure nothing writes to it during the copy and run copy --allow-non-transactional.",
  },
  COPY_TARGET_BUSY: {
    exit: 1,
    retried: "no",
    meaning: "A sink (or another copy) works on the target database now, or a sink has already applied the log there: the copy must come before the sink.",
    action: "Stop the sink or the other copy; after a sink has applied, start the migration in a fresh database with a new log.",
  },
  COPY_INTERRUPTED: {
    exit: 1,
    retried: "no",
    meaning: "copy was stopped by a signal before it finished; the chunks and steps done are kept in the ledger.",
    action: "Run copy again to finish it; the sink does not start before it has.",
  },
  COPY_LOG_NOT_EMPTY: {
    exit: 1,
    retried: "no",
    meaning: "copy hands over to source through the log, and the log already holds records of another run.",
    action: "Give the migration a new log (a new journal directory or Kafka topic) in [transport], then run copy again.",
  },
  // status and cutover (issue 17)
  STATUS_UNREADABLE: {
    exit: 1,
    retried: "no",
    meaning: "status could not read one of the parts the configuration names (the source, the log or the target); the others are reported.",
    action: "Read the line marked unreadable: it names the part and the error; fix the access and run status again.",
  },
  CAUGHT_UP_TIMEOUT: {
    exit: 1,
    retried: "no",
    meaning: "The target did not catch up with the source position recorded when the wait began within --timeout (or a signal ended the wait).",
    action: "Check that source and sink run (gs-replicate status says where each stands), then wait again.",
  },
  CUTOVER_SOURCE_WRITABLE: {
    exit: 1,
    retried: "no",
    meaning: "cutover found the source still taking writes (read_only off, or super_read_only off on MySQL).",
    action: "Stop the application's writes and set the source read-only, or run cutover --force to go on knowingly.",
  },
  INTERNAL: {
    exit: 1,
    retried: "no",
    meaning: "A bug in gs-replicate: an internal consistency check failed.",
    action: "Report it with the message and a GS_REPLICATE_DEBUG=1 log; a restart resumes where the command left off.",
  },
} as const satisfies Record<string, ErrorCodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** docs/errors.md: the table above as Markdown. */
export function renderErrorTable(): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const rows = Object.entries(ERROR_CODES as Record<string, ErrorCodeInfo>).map(
    ([code, e]) => `| \`${code}\` | ${e.exit ?? "—"} | ${e.retried} | ${cell(e.meaning)} | ${cell(e.action)} |`,
  );
  return ["| code | exit | retried automatically | meaning | what to do |", "| --- | --- | --- | --- | --- |", ...rows].join("\n");
}
