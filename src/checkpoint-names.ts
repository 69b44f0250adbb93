// The names the sink's exactly-once records have in the target: one module beside errors.ts,
// so that the sink (which creates them, sink/checkpoint.ts) and `check` (which reads them) both
// import them without `check/` importing `sink/`.

export const CHECKPOINT_SCHEMA = "gs_replicate";
/** An empty schema: the marker that the checkpoint existed (see ensureCheckpointTables in sink/checkpoint.ts). */
export const GUARD_SCHEMA = "gs_replicate_guard";
