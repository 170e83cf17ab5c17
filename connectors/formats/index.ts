/**
 * File formats: Parquet, JSONL, Arrow IPC and Megatron indexed datasets.
 *
 * Readers work from plain async code (`AsyncIterable` of row arrays, promises) and as
 * Effect streams (`*BatchStream`). Every failure is a `FormatError` with a closed
 * `reason`. See `docs/formats.md` for limits and error reasons.
 */
export { FormatError, FormatErrorReason, FormatName, describeCause } from "./FormatError.ts"
export {
  DEFAULT_BATCH_ROWS,
  DEFAULT_MAX_ROW_GROUP_BYTES,
  asyncBufferFromFile,
  parquetBatchStream,
  parquetColumnNames,
  readParquetBatches,
  readParquetMetadata
} from "./parquet-read.ts"
export type { AsyncBuffer, FileMetaData, ParquetReadOptions } from "./parquet-read.ts"
export { DEFAULT_ROW_GROUP_ROWS, UINT32_LE_COLUMNS_KEY, makeParquetWriter, writeParquet, writeParquetChunks } from "./parquet-write.ts"
export type {
  ParquetCodec,
  ParquetColumnSpec,
  ParquetColumnType,
  ParquetRowWriter,
  ParquetWriteOptions
} from "./parquet-write.ts"
export {
  DEFAULT_MAX_RECORD_BYTES,
  byteSourceFromFile,
  jsonlBatchStream,
  jsonlCompressionFor,
  readJsonl
} from "./jsonl.ts"
export type {
  JsonlCompression,
  JsonlCounts,
  JsonlReadOptions,
  JsonlReader,
  JsonlSkip,
  JsonlSkipReason
} from "./jsonl.ts"
export { arrowBatchStream, decodeLz4Frame, readArrowBatches, writeArrowIpc } from "./arrow.ts"
export type { ArrowReadOptions, ArrowWriteOptions } from "./arrow.ts"
export {
  INDEXED_DTYPE_CODES,
  makeIndexedDatasetWriter,
  readIndexedDatasetIndex,
  readIndexedDatasetSequence,
  writeBlendFile,
  writeIndexedDatasetFiles
} from "./megatron.ts"
export type {
  BlendComponent,
  BlendFile,
  IndexedDatasetIndex,
  IndexedDatasetSummary,
  IndexedDatasetWriter,
  IndexedDatasetWriterOptions,
  IndexedDtype,
  IndexedWriteDtype
} from "./megatron.ts"
export { readSourceFile } from "./source.ts"
export type { SourceFormat, SourceReadOptions } from "./source.ts"
