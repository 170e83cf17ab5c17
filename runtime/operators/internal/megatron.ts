/**
 * Megatron-LM / gpt-neox indexed dataset writer (`MMIDIDX` version 1).
 *
 * `.idx` layout, little-endian: magic `MMIDIDX\0\0`, version u64 (1), dtype code u8,
 * sequence count u64, document count u64 (sequences + 1), sizes int32[sequences],
 * byte pointers int64[sequences], document indices int64[documents]. Each document
 * is one sequence. The `.bin` file holds the token ids back to back.
 *
 * NOTE: Megatron's dtype table has no uint32, so ids are written as int32 (code 4),
 * which holds every id below 2^31 bit for bit; the writer rejects larger ids.
 * TODO: replace with the Megatron writer of connectors/formats once it exists.
 */
const MAGIC = new TextEncoder().encode("MMIDIDX\x00\x00")
const DTYPE_INT32 = 4

export interface IndexedDataset {
  readonly bin: Uint8Array
  readonly idx: Uint8Array
  readonly documents: number
  readonly tokens: number
}

export const writeIndexedDataset = (documents: ReadonlyArray<Uint32Array>): IndexedDataset => {
  const tokens = documents.reduce((total, document) => total + document.length, 0)
  const bin = new Uint8Array(tokens * 4)
  const binView = new DataView(bin.buffer)
  const count = documents.length
  const idx = new Uint8Array(MAGIC.length + 8 + 1 + 8 + 8 + count * 4 + count * 8 + (count + 1) * 8)
  const view = new DataView(idx.buffer)
  idx.set(MAGIC, 0)
  let offset = MAGIC.length
  view.setBigUint64(offset, 1n, true)
  offset += 8
  view.setUint8(offset, DTYPE_INT32)
  offset += 1
  view.setBigUint64(offset, BigInt(count), true)
  offset += 8
  view.setBigUint64(offset, BigInt(count + 1), true)
  offset += 8
  const sizesAt = offset
  const pointersAt = sizesAt + count * 4
  const documentsAt = pointersAt + count * 8
  let position = 0
  for (let index = 0; index < count; index++) {
    const document = documents[index]
    view.setInt32(sizesAt + index * 4, document.length, true)
    view.setBigInt64(pointersAt + index * 8, BigInt(position * 4), true)
    for (let token = 0; token < document.length; token++) {
      const id = document[token]
      if (id > 0x7fffffff) throw new RangeError(`token id ${id} does not fit the int32 Megatron dtype`)
      binView.setInt32((position + token) * 4, id, true)
    }
    position += document.length
  }
  for (let index = 0; index <= count; index++) view.setBigInt64(documentsAt + index * 8, BigInt(index), true)
  return { bin, idx, documents: count, tokens }
}
