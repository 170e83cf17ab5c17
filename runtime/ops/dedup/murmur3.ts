/**
 * MurmurHash3 x86_128 (Austin Appleby, public domain), on 32-bit integer math.
 *
 * The x86 variant uses only 32-bit multiplies, which `Math.imul` computes exactly, so
 * it runs without BigInt. It is not the x64_128 variant: the two return different
 * values for the same input.
 */

const C1 = 0x239b961b
const C2 = 0xab0e9789
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

const fmix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

/**
 * Hashes `length` bytes of `bytes` from offset 0 and writes the 128-bit result into
 * `out[0..3]` as four 32-bit words, in the order of the reference implementation's
 * output (h1, h2, h3, h4).
 */
export const murmur3x86_128 = (bytes: Uint8Array, length: number, seed: number, out: Uint32Array): void => {
  let h1 = seed | 0
  let h2 = seed | 0
  let h3 = seed | 0
  let h4 = seed | 0
  const blocks = length >>> 4
  // Little-endian 32-bit reads through a DataView work at any byte offset.
  const view = new DataView(bytes.buffer, bytes.byteOffset, length)

  for (let block = 0; block < blocks; block++) {
    const offset = block << 4
    let k1 = view.getUint32(offset, true)
    let k2 = view.getUint32(offset + 4, true)
    let k3 = view.getUint32(offset + 8, true)
    let k4 = view.getUint32(offset + 12, true)

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2)
    h1 ^= k1
    h1 = rotl(h1, 19) + h2
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3)
    h2 ^= k2
    h2 = rotl(h2, 17) + h3
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4)
    h3 ^= k3
    h3 = rotl(h3, 15) + h4
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1)
    h4 ^= k4
    h4 = rotl(h4, 13) + h1
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0
  }

  const tail = blocks << 4
  const rest = length & 15
  let k1 = 0
  let k2 = 0
  let k3 = 0
  let k4 = 0
  // The reference implementation's switch falls through from the longest tail down.
  if (rest >= 13) {
    for (let i = rest - 1; i >= 12; i--) k4 ^= bytes[tail + i] << ((i - 12) * 8)
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1)
    h4 ^= k4
  }
  if (rest >= 9) {
    for (let i = Math.min(rest, 12) - 1; i >= 8; i--) k3 ^= bytes[tail + i] << ((i - 8) * 8)
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4)
    h3 ^= k3
  }
  if (rest >= 5) {
    for (let i = Math.min(rest, 8) - 1; i >= 4; i--) k2 ^= bytes[tail + i] << ((i - 4) * 8)
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3)
    h2 ^= k2
  }
  if (rest >= 1) {
    for (let i = Math.min(rest, 4) - 1; i >= 0; i--) k1 ^= bytes[tail + i] << (i * 8)
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2)
    h1 ^= k1
  }

  h1 ^= length
  h2 ^= length
  h3 ^= length
  h4 ^= length

  h1 = (h1 + h2) | 0
  h1 = (h1 + h3) | 0
  h1 = (h1 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0

  h1 = fmix(h1)
  h2 = fmix(h2)
  h3 = fmix(h3)
  h4 = fmix(h4)

  h1 = (h1 + h2) | 0
  h1 = (h1 + h3) | 0
  h1 = (h1 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0

  out[0] = h1
  out[1] = h2
  out[2] = h3
  out[3] = h4
}
