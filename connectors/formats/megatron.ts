/**
 * Megatron / gpt-neox indexed datasets (the mmap "MMIDIDX" layout) and blend files.
 *
 * A dataset is a pair of files with a shared prefix. `<prefix>.bin` contains the token ids
 * of every sequence back to back in one dtype. `<prefix>.idx` is, little-endian:
 *
 * | bytes | field |
 * |---|---|
 * | 9 | magic `MMIDIDX\0\0` |
 * | 8 | version, uint64 = 1 |
 * | 1 | dtype code (table below) |
 * | 8 | sequence count N, uint64 |
 * | 8 | document index length D, uint64 (documents + 1) |
 * | 4·N | sizes: tokens per sequence, int32 |
 * | 8·N | pointers: byte offset of each sequence in `.bin`, int64 |
 * | 8·D | document index: sequence index where each document starts, int64, first 0, last N |
 *
 * Dtype codes as in Megatron-LM `indexed_dataset.py` (`DType`): 1 uint8, 2 int8, 3 int16,
 * 4 int32, 5 int64, 6 float64, 7 float32, 8 uint16. There is no uint32 code: Megatron
 * picks uint16 for vocabularies under 65500 ids and int32 otherwise, so `"uint32"` here
 * writes int32 (code 4) and rejects ids of 2^31 or more.
 */
import { once } from "node:events"
import { createWriteStream } from "node:fs"
import type { WriteStream } from "node:fs"
import { FormatError } from "./FormatError.ts"
import { concatBytes } from "./bytes.ts"

export type IndexedDtype = "uint8" | "int8" | "int16" | "int32" | "int64" | "float64" | "float32" | "uint16"

/** Token dtypes the writer accepts; `"uint32"` is stored as int32 (see the module doc). */
export type IndexedWriteDtype = "uint8" | "uint16" | "int32" | "uint32" | "int64"

export const INDEXED_DTYPE_CODES: Readonly<Record<IndexedDtype, number>> = {
  uint8: 1,
  int8: 2,
  int16: 3,
  int32: 4,
  int64: 5,
  float64: 6,
  float32: 7,
  uint16: 8
}

const ITEM_SIZE: Readonly<Record<IndexedDtype, number>> = {
  uint8: 1,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  float64: 8,
  float32: 4,
  uint16: 2
}

const MAX_VALUE: Readonly<Record<IndexedWriteDtype, number>> = {
  uint8: 0xff,
  uint16: 0xffff,
  int32: 0x7fffffff,
  uint32: 0x7fffffff,
  int64: Number.MAX_SAFE_INTEGER
}

const MAGIC = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00])
const HEADER_BYTES = 9 + 8 + 1 + 8 + 8

const fail = (name: string, reason: FormatError["reason"], description: string): FormatError =>
  new FormatError({ format: "megatron", reason, file: name, description })

const diskDtype = (dtype: IndexedWriteDtype): IndexedDtype => (dtype === "uint32" ? "int32" : dtype)

/** Grows like an array but stores numbers in a typed array. */
class GrowableInt32 {
  values = new Int32Array(1024)
  length = 0
  push(value: number) {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = value
  }
}

class GrowableFloat64 {
  values = new Float64Array(1024)
  length = 0
  push(value: number) {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2)
      grown.set(this.values)
      this.values = grown
    }
    this.values[this.length++] = value
  }
}

export interface IndexedDatasetWriterOptions {
  /** Token dtype on disk (default `"uint16"`, as Megatron for GPT-2 sized vocabularies). */
  readonly dtype?: IndexedWriteDtype
  /** Name for error messages, usually the prefix. */
  readonly name?: string
}

export interface IndexedDatasetSummary {
  readonly dtype: IndexedDtype
  readonly sequences: number
  readonly documents: number
  readonly tokens: number
  readonly binBytes: number
}

/**
 * Streaming writer. `addDocument` returns the `.bin` bytes for that document, to be
 * appended in order; `finishIndex` yields the `.idx` file in chunks once all documents
 * are added. Memory grows by 4 bytes per sequence and 8 per document, never with tokens.
 */
export interface IndexedDatasetWriter {
  /** Adds one document made of one or several sequences; returns the bytes to append to `.bin`. */
  readonly addDocument: (sequences: Uint32Array | ReadonlyArray<Uint32Array>) => Uint8Array
  /** Yields the whole `.idx` file, header first. Call once, after the last document. */
  readonly finishIndex: () => Iterable<Uint8Array>
  readonly summary: () => IndexedDatasetSummary
}

export const makeIndexedDatasetWriter = (options: IndexedDatasetWriterOptions = {}): IndexedDatasetWriter => {
  const name = options.name ?? "(indexed dataset)"
  const writeDtype = options.dtype ?? "uint16"
  const dtype = diskDtype(writeDtype)
  const itemSize = ITEM_SIZE[dtype]
  const maxValue = MAX_VALUE[writeDtype]
  const sizes = new GrowableInt32()
  const documentStarts = new GrowableFloat64()
  documentStarts.push(0)
  let tokens = 0
  let finished = false

  const encode = (sequence: Uint32Array): Uint8Array => {
    const bytes = new Uint8Array(sequence.length * itemSize)
    const view = new DataView(bytes.buffer)
    for (let i = 0; i < sequence.length; i++) {
      const value = sequence[i]
      if (value > maxValue) {
        throw fail(name, "InvalidArgument", `token id ${value} in sequence ${sizes.length} does not fit dtype ${writeDtype} (max ${maxValue}); choose a wider dtype`)
      }
      switch (dtype) {
        case "uint8":
          bytes[i] = value
          break
        case "uint16":
          view.setUint16(i * 2, value, true)
          break
        case "int32":
          view.setInt32(i * 4, value, true)
          break
        default:
          view.setBigInt64(i * 8, BigInt(value), true)
      }
    }
    return bytes
  }

  return {
    addDocument: (input) => {
      if (finished) throw fail(name, "InvalidArgument", "addDocument called after finishIndex")
      const sequences = input instanceof Uint32Array ? [input] : input
      if (sequences.length === 0) throw fail(name, "InvalidArgument", "a document needs at least one sequence")
      const parts = sequences.map((sequence) => {
        if (sequence.length > 0x7fffffff) throw fail(name, "InvalidArgument", "a sequence has more than 2^31-1 tokens, the int32 size limit of the index")
        sizes.push(sequence.length)
        tokens += sequence.length
        return encode(sequence)
      })
      documentStarts.push(sizes.length)
      if (parts.length === 1) return parts[0]
      return concatBytes(parts)
    },
    finishIndex: function*() {
      finished = true
      const count = sizes.length
      const header = new Uint8Array(HEADER_BYTES)
      const view = new DataView(header.buffer)
      header.set(MAGIC, 0)
      view.setBigUint64(9, 1n, true)
      view.setUint8(17, INDEXED_DTYPE_CODES[dtype])
      view.setBigUint64(18, BigInt(count), true)
      view.setBigUint64(26, BigInt(documentStarts.length), true)
      yield header
      yield new Uint8Array(sizes.values.buffer.slice(0, count * 4))
      const chunkEntries = 1 << 16
      let pointer = 0
      for (let start = 0; start < count; start += chunkEntries) {
        const end = Math.min(count, start + chunkEntries)
        const pointers = new BigInt64Array(end - start)
        for (let i = start; i < end; i++) {
          pointers[i - start] = BigInt(pointer)
          pointer += sizes.values[i] * itemSize
        }
        yield new Uint8Array(pointers.buffer)
      }
      for (let start = 0; start < documentStarts.length; start += chunkEntries) {
        const end = Math.min(documentStarts.length, start + chunkEntries)
        const starts = new BigInt64Array(end - start)
        for (let i = start; i < end; i++) starts[i - start] = BigInt(documentStarts.values[i])
        yield new Uint8Array(starts.buffer)
      }
    },
    summary: () => ({ dtype, sequences: sizes.length, documents: documentStarts.length - 1, tokens, binBytes: tokens * itemSize })
  }
}

const writeChunk = async (stream: WriteStream, chunk: Uint8Array): Promise<void> => {
  if (!stream.write(chunk)) await once(stream, "drain")
}

const closeStream = (stream: WriteStream): Promise<void> =>
  new Promise((resolve, reject) => {
    stream.once("error", reject)
    stream.end(() => resolve())
  })

/**
 * Writes `<prefix>.bin` and `<prefix>.idx` on local disk from a stream of documents
 * (one sequence each), holding only one document's bytes at a time.
 */
export const writeIndexedDatasetFiles = async (
  prefix: string,
  documents: AsyncIterable<Uint32Array> | Iterable<Uint32Array>,
  options: IndexedDatasetWriterOptions = {}
): Promise<IndexedDatasetSummary> => {
  const writer = makeIndexedDatasetWriter({ name: prefix, ...options })
  const bin = createWriteStream(`${prefix}.bin`)
  try {
    for await (const document of documents) await writeChunk(bin, writer.addDocument(document))
  } finally {
    await closeStream(bin)
  }
  const idx = createWriteStream(`${prefix}.idx`)
  try {
    for (const chunk of writer.finishIndex()) await writeChunk(idx, chunk)
  } finally {
    await closeStream(idx)
  }
  return writer.summary()
}

// ---------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------

export interface IndexedDatasetIndex {
  readonly dtype: IndexedDtype
  readonly dtypeCode: number
  readonly sizes: Int32Array
  /** Byte offsets into `.bin`; numbers, since files stay below 2^53 bytes. */
  readonly pointers: Float64Array
  readonly documentIndex: Float64Array
}

const CODE_TO_DTYPE = new Map(Object.entries(INDEXED_DTYPE_CODES).map(([dtype, code]) => [code, dtype as IndexedDtype]))

/** Parses and checks an `.idx` file. */
export const readIndexedDatasetIndex = (bytes: Uint8Array, name = "(index)"): IndexedDatasetIndex => {
  if (bytes.byteLength === 0) throw fail(name, "Empty", "the index file is empty")
  for (let i = 0; i < Math.min(MAGIC.length, bytes.byteLength); i++) {
    if (bytes[i] !== MAGIC[i]) throw fail(name, "Corrupt", "not an MMIDIDX index (bad magic); the legacy TNTIDX and cached formats are not supported")
  }
  if (bytes.byteLength < HEADER_BYTES) throw fail(name, "Truncated", `the index is ${bytes.byteLength} bytes, shorter than its ${HEADER_BYTES}-byte header`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getBigUint64(9, true)
  if (version !== 1n) throw fail(name, "Unsupported", `index version ${version}, expected 1`)
  const dtypeCode = view.getUint8(17)
  const dtype = CODE_TO_DTYPE.get(dtypeCode)
  if (dtype === undefined) throw fail(name, "Unsupported", `unknown dtype code ${dtypeCode}`)
  const count = Number(view.getBigUint64(18, true))
  const documentCount = Number(view.getBigUint64(26, true))
  const expected = HEADER_BYTES + count * 12 + documentCount * 8
  if (bytes.byteLength < expected) {
    throw fail(name, "Truncated", `the header declares ${count} sequences and ${documentCount} document index entries (${expected} bytes) but the file has ${bytes.byteLength} bytes`)
  }
  const sizes = new Int32Array(count)
  const pointers = new Float64Array(count)
  const documentIndex = new Float64Array(documentCount)
  let offset = HEADER_BYTES
  for (let i = 0; i < count; i++, offset += 4) sizes[i] = view.getInt32(offset, true)
  for (let i = 0; i < count; i++, offset += 8) pointers[i] = Number(view.getBigInt64(offset, true))
  for (let i = 0; i < documentCount; i++, offset += 8) documentIndex[i] = Number(view.getBigInt64(offset, true))
  return { dtype, dtypeCode, sizes, pointers, documentIndex }
}

/** Returns the token ids of sequence `i`, checking that it lies inside `.bin`. */
export const readIndexedDatasetSequence = (index: IndexedDatasetIndex, bin: Uint8Array, i: number, name = "(bin)"): Array<number> => {
  const itemSize = ITEM_SIZE[index.dtype]
  const start = index.pointers[i]
  const end = start + index.sizes[i] * itemSize
  if (end > bin.byteLength) throw fail(name, "Truncated", `sequence ${i} ends at byte ${end} but the data file has ${bin.byteLength} bytes`)
  const view = new DataView(bin.buffer, bin.byteOffset + start, end - start)
  const out: Array<number> = new Array(index.sizes[i])
  for (let k = 0; k < out.length; k++) {
    switch (index.dtype) {
      case "uint8":
        out[k] = view.getUint8(k)
        break
      case "int8":
        out[k] = view.getInt8(k)
        break
      case "int16":
        out[k] = view.getInt16(k * 2, true)
        break
      case "uint16":
        out[k] = view.getUint16(k * 2, true)
        break
      case "int32":
        out[k] = view.getInt32(k * 4, true)
        break
      case "int64":
        out[k] = Number(view.getBigInt64(k * 8, true))
        break
      case "float32":
        out[k] = view.getFloat32(k * 4, true)
        break
      case "float64":
        out[k] = view.getFloat64(k * 8, true)
        break
    }
  }
  return out
}

// ---------------------------------------------------------------------------
// Blend files
// ---------------------------------------------------------------------------

export interface BlendComponent {
  readonly weight: number
  /** Dataset prefix without `.bin`/`.idx`. */
  readonly prefix: string
}

export interface BlendFile {
  /** Megatron `--data-path` form: `weight prefix weight prefix ...` on one line. */
  readonly text: string
  /** gpt-neox config keys `train-data-paths` and `train-data-weights`, plus the flat `data-path` list. */
  readonly json: string
}

/** Encodes a data blend for Megatron (`--data-path`) and gpt-neox (`train-data-*`). */
export const writeBlendFile = (components: ReadonlyArray<BlendComponent>, name = "(blend)"): BlendFile => {
  if (components.length === 0) throw fail(name, "InvalidArgument", "a blend needs at least one component")
  for (const [i, component] of components.entries()) {
    if (!Number.isFinite(component.weight) || component.weight <= 0) {
      throw fail(name, "InvalidArgument", `component ${i} (${component.prefix}) has weight ${component.weight}; weights must be positive numbers`)
    }
    if (component.prefix.length === 0 || /\s/.test(component.prefix)) {
      throw fail(name, "InvalidArgument", `component ${i} prefix ${JSON.stringify(component.prefix)} is empty or contains whitespace, which the space-separated --data-path form cannot hold`)
    }
  }
  const text = components.map((component) => `${component.weight} ${component.prefix}`).join(" ") + "\n"
  const json = JSON.stringify({
    "train-data-paths": components.map((component) => component.prefix),
    "train-data-weights": components.map((component) => component.weight),
    "data-path": components.flatMap((component) => [String(component.weight), component.prefix])
  }, null, 2) + "\n"
  return { text, json }
}
