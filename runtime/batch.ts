/**
 * Rows and record batches as operators see them.
 *
 * A batch is an array of plain rows. Format connectors convert Parquet, JSONL and
 * Arrow IPC into batches at the edge, so operators never depend on a file format.
 */

/** One record: column name to value. Text columns hold strings, token columns `Uint32Array`. */
export type Row = Record<string, unknown>

/** Rows that travel together through a stream; readers emit at most their `batchRows` option. */
export type Batch = ReadonlyArray<Row>
