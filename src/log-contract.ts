// The ordered-log contract between `source` and `sink`. Two implementations share it: the local
// journal (transport/journal.ts, one host) and Kafka (transport/kafka.ts, one partition). Both
// behave like a single Kafka partition: records are opaque bytes, offsets are consecutive
// integers from 0 across the whole log, and order is the order of append().
// It lives beside errors.ts, not in transport/, because events/ (which writes the records,
// reads the log tail and the schema history) and transport/ (which implements it) both use it,
// and events/ is to the left of transport/ (ARCHITECTURE.md).

/** One log entry. The transport never looks inside key or value (they are AVRO bytes). */
export interface LogRecord {
  key: Uint8Array | null;
  value: Uint8Array;
}

/** A record together with its position in the log. */
export interface OffsetRecord {
  offset: bigint;
  record: LogRecord;
}

/** The single producer side. Only one writer may be open on a log at a time. */
export interface LogWriter {
  /** Appends in order. Not durable until sync() resolves; the bytes must not change before this resolves. */
  append(records: LogRecord[]): Promise<void>;
  /** Makes everything appended so far durable; `source` calls it at transaction boundaries. */
  sync(): Promise<void>;
  /** The last `max` records (fewer if the log is shorter), oldest first: `source` resumes from them. */
  tail(max: number): Promise<OffsetRecord[]>;
  /** The offset the next appended record will get. */
  endOffset(): bigint;
  close(): Promise<void>;
}

export interface ReadOptions {
  /** false: stop at the end as it is now; true: wait for new records until `signal` aborts. */
  follow: boolean;
  signal?: AbortSignal;
  /** Told when the log stops answering (Kafka brokers away), and again once it answers. */
  onWaiting?: (waiting: boolean) => void;
}

/** The consumer side. */
export interface LogReader {
  read(from: bigint, opts: ReadOptions): AsyncIterable<OffsetRecord>;
  /** The offset after the last complete record currently in the log. */
  endOffset(): Promise<bigint>;
  /**
   * A durable "read up to here" hint. The sink's checkpoint in the target is the authority;
   * the cursor only saves a lookup when the two agree.
   */
  saveCursor(offset: bigint): Promise<void>;
  loadCursor(): Promise<bigint | null>;
  close(): Promise<void>;
}
