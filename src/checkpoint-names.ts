// The names the sink's exactly-once records have in the target: one module beside errors.ts,
// so that the sink (which creates them, sink/checkpoint.ts) and `check` (which reads them) both
// import them without `check/` importing `sink/`.

export const CHECKPOINT_SCHEMA = "gs_replicate";
/** An empty schema: the marker that the checkpoint existed (see ensureCheckpointTables in sink/checkpoint.ts). */
export const GUARD_SCHEMA = "gs_replicate_guard";

/**
 * The sink lock's two advisory-lock keys (they spell "gsre" "plic"): held by the running sink
 * (sink/checkpoint.ts SinkLock) and, while it runs, by `copy`, which must not meet a sink.
 */
export const SINK_LOCK_KEYS = "1735619173, 1886169443";
