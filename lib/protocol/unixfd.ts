// Upstream GStreamer's unixfd wire (unixfdsink / unixfdsrc, 1.24+; docs/unixfd-interop.md), written
// from their source: a stream socket; each command is a QsUnixfdCommand header {type, size} sent with
// its fds, then `size` bytes of payload. CAPS: the caps string and its NUL. NEW_BUFFER: a fixed part
// (timestamps on CLOCK_MONOTONIC), a {size, offset} per memory (one fd each, in order), then metas as
// gst_meta_serialize writes them. RELEASE_BUFFER: the u64 id, from the receiver. EOS: nothing.
//
// The receiver's reference decoder: qtisocketsrc's element reads what the native decoder
// (plugin/helper/decode.c) leaves to it with this, and test/codec.test.ts holds the two to the same
// answers. The records are layout.ts's (unixfdCommand, unixfdNewBuffer, unixfdMemory, unixfdMeta,
// unixfdVideoMeta).
import { BufferDesc, MemKind, VideoMetaDesc } from './desc'
import { LAYOUT, LIMITS, readRecord, UNIXFD_COMMANDS, UNIXFD_VIDEO_META } from './layout'
import { ProtocolError } from './wire'

const HEADER = LAYOUT.unixfdCommand.size
const FIXED = LAYOUT.unixfdNewBuffer.size
const MEMORY = LAYOUT.unixfdMemory.size
const META = LAYOUT.unixfdMeta.size
const VMETA = LAYOUT.unixfdVideoMeta.size
const U64_MAX = 0xffffffffffffffffn
/** GST_VIDEO_MAX_PLANES */
const MAX_PLANES = 4

export type UnixfdMessage =
  | { type: 'caps', caps: string }
  | { type: 'eos' }
  | { type: 'release', id: bigint }
  | { type: 'buffer', buffer: BufferDesc, metas: string[] }
  | { type: 'unknown', command: number }

/** a command: its header and payload */
export function encodeCommand(type: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(HEADER + payload.byteLength)
  const v = new DataView(out.buffer)
  v.setUint32(LAYOUT.unixfdCommand.offset.type!, type, true)
  v.setUint32(LAYOUT.unixfdCommand.offset.size!, payload.byteLength, true)
  out.set(payload, HEADER)
  return out
}

/** GstVideoMeta serialized as gst_meta_serialize writes it (version 0, no alignment) */
export function encodeVideoMeta(m: VideoMetaDesc): Uint8Array {
  const name = Buffer.from(UNIXFD_VIDEO_META)
  const n = m.nPlanes
  const body = VMETA + 16 * n + 16
  const out = new Uint8Array(META + name.byteLength + 2 + body)
  const v = new DataView(out.buffer)
  v.setUint32(0, out.byteLength, true)
  v.setUint32(4, name.byteLength, true)
  out.set(name, META)
  let at = META + name.byteLength + 2
  v.setInt32(at, m.flags, true)
  v.setInt32(at + 4, m.format, true)
  v.setUint32(at + 8, m.width, true)
  v.setUint32(at + 12, m.height, true)
  v.setUint32(at + 16, n, true)
  at += VMETA
  for (let i = 0; i < n; i++)
    v.setBigUint64(at + 8 * i, m.offsets[i] ?? 0n, true)
  at += 8 * n
  for (let i = 0; i < n; i++)
    v.setInt32(at + 4 * i, m.strides[i] ?? 0, true)
  return out
}

/** NEW_BUFFER as their sink writes it (for the tests): memories {size, offset}, metas already serialized */
export function encodeNewBuffer(b: { id: bigint, pts: bigint, dts: bigint, duration: bigint, offset: bigint,
  offsetEnd: bigint, flags: number, type: number, memories: Array<{ size: bigint, offset: bigint }>, metas: Uint8Array[] }): Uint8Array {
  const metaBytes = b.metas.reduce((n, m) => n + m.byteLength, 0)
  const payload = new Uint8Array(FIXED + MEMORY * b.memories.length + metaBytes)
  const v = new DataView(payload.buffer)
  const o = LAYOUT.unixfdNewBuffer.offset
  v.setBigUint64(o.id!, b.id, true)
  v.setBigUint64(o.pts!, b.pts, true)
  v.setBigUint64(o.dts!, b.dts, true)
  v.setBigUint64(o.duration!, b.duration, true)
  v.setBigUint64(o.offset!, b.offset, true)
  v.setBigUint64(o.offset_end!, b.offsetEnd, true)
  v.setUint32(o.flags!, b.flags, true)
  v.setUint8(o.type!, b.type)
  v.setUint8(o.n_memory!, b.memories.length)
  v.setUint16(o.n_meta!, b.metas.length, true)
  b.memories.forEach((m, i) => {
    v.setBigUint64(FIXED + MEMORY * i, m.size, true)
    v.setBigUint64(FIXED + MEMORY * i + 8, m.offset, true)
  })
  let at = FIXED + MEMORY * b.memories.length
  for (const m of b.metas) {
    payload.set(m, at)
    at += m.byteLength
  }
  return encodeCommand(UNIXFD_COMMANDS.newBuffer, payload)
}

/** A command from their sink, with nFds fds; throws ProtocolError saying what is wrong with it. */
export function decodeUnixfd(data: Uint8Array, nFds: number): UnixfdMessage {
  if (data.byteLength < HEADER)
    throw new ProtocolError(`a command of ${data.byteLength} bytes, shorter than its ${HEADER}-byte header`)
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const type = v.getUint32(LAYOUT.unixfdCommand.offset.type!, true)
  const size = v.getUint32(LAYOUT.unixfdCommand.offset.size!, true)
  if (size !== data.byteLength - HEADER)
    throw new ProtocolError(`a command announcing ${size} bytes of payload came with ${data.byteLength - HEADER}`)
  const payload = data.subarray(HEADER)
  if (type !== UNIXFD_COMMANDS.newBuffer && nFds > 0)
    throw new ProtocolError(`${nFds} fds came with a command of type ${type}, which carries none`)
  switch (type) {
    case UNIXFD_COMMANDS.caps: {
      if (size === 0 || payload[size - 1] !== 0)
        throw new ProtocolError('CAPS without the NUL that ends its string')
      if (size - 1 > LIMITS.capsLength)
        throw new ProtocolError(`CAPS of ${size - 1} bytes (at most ${LIMITS.capsLength})`)
      const bytes = payload.subarray(0, size - 1)
      if (bytes.includes(0))
        throw new ProtocolError('CAPS with a NUL inside its string')
      let caps
      try {
        caps = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
      } catch {
        throw new ProtocolError('CAPS that are not UTF-8')
      }
      return { type: 'caps', caps }
    }
    case UNIXFD_COMMANDS.eos:
      return { type: 'eos' }
    case UNIXFD_COMMANDS.releaseBuffer:
      if (size !== 8)
        throw new ProtocolError(`RELEASE_BUFFER of ${size} bytes (8 expected)`)
      return { type: 'release', id: v.getBigUint64(HEADER, true) }
    case UNIXFD_COMMANDS.newBuffer:
      return decodeNewBuffer(new DataView(payload.buffer, payload.byteOffset, payload.byteLength), nFds)
    default:
      return { type: 'unknown', command: type }
  }
}

function decodeNewBuffer(v: DataView, nFds: number): UnixfdMessage {
  const size = v.byteLength
  if (size < FIXED)
    throw new ProtocolError(`NEW_BUFFER of ${size} bytes, shorter than its ${FIXED}-byte fixed part`)
  const r = readRecord(v, 0, 'unixfdNewBuffer')
  const type = r.type as number, nMemory = r.n_memory as number, nMeta = r.n_meta as number
  if (type > 1)
    throw new ProtocolError(`NEW_BUFFER of memory type ${type} (0 memory or 1 DMA-BUF)`)
  if (nMemory > LIMITS.memories)
    throw new ProtocolError(`NEW_BUFFER of ${nMemory} memories (at most ${LIMITS.memories})`)
  if (size < FIXED + MEMORY * nMemory)
    throw new ProtocolError(`NEW_BUFFER of ${size} bytes for ${nMemory} memories`)
  if (nFds !== nMemory)
    throw new ProtocolError(`NEW_BUFFER with ${nFds} fds for ${nMemory} memories`)
  const b: BufferDesc = { id: r.id as bigint, pts: r.pts as bigint, dts: r.dts as bigint, duration: r.duration as bigint,
    offset: r.offset as bigint, offsetEnd: r.offset_end as bigint, flags: r.flags as number,
    // their timestamps are instants on CLOCK_MONOTONIC: running times from a base of 0
    runningPts: r.pts as bigint, runningDts: r.dts as bigint, baseMonotonic: 0n, memories: [] }
  for (let i = 0; i < nMemory; i++) {
    const m = readRecord(v, FIXED + MEMORY * i, 'unixfdMemory')
    const msize = m.size as bigint, offset = m.offset as bigint
    if (offset > U64_MAX - msize)
      throw new ProtocolError(`NEW_BUFFER's memory ${i} spans ${offset}+${msize}, beyond 2^64`)
    b.memories.push({ index: i, kind: type === 1 ? MemKind.DmaBuf : MemKind.Fd, offset, size: msize, maxsize: offset + msize })
  }
  const metas: string[] = []
  let at = FIXED + MEMORY * nMemory
  for (let k = 0; k < nMeta; k++) {
    if (size - at < META)
      throw new ProtocolError(`NEW_BUFFER's meta ${k} beyond its ${size} bytes`)
    const total = v.getUint32(at, true), nameLength = v.getUint32(at + 4, true)
    if (total > size - at || nameLength > total || total - nameLength < META + 2)
      throw new ProtocolError(`NEW_BUFFER's meta ${k} of ${total} bytes with a name of ${nameLength}`)
    if (v.getUint8(at + META + nameLength) !== 0)
      throw new ProtocolError(`NEW_BUFFER's meta ${k}: its name has no NUL`)
    const name = Buffer.from(v.buffer, v.byteOffset + at + META, nameLength).toString('latin1')
    const version = v.getUint8(at + META + nameLength + 1)
    const body = new DataView(v.buffer, v.byteOffset + at + META + nameLength + 2, total - META - nameLength - 2)
    metas.push(name)
    if (name === UNIXFD_VIDEO_META && version === 0 && !b.video)
      b.video = videoMeta(body, k)
    at += total
  }
  return { type: 'buffer', buffer: b, metas }
}

/** GstVideoMeta's body, version 0 (the first one of a buffer is taken, as gst_buffer_get_video_meta does) */
function videoMeta(v: DataView, k: number): VideoMetaDesc {
  if (v.byteLength < VMETA)
    throw new ProtocolError(`NEW_BUFFER's video meta (meta ${k}) of ${v.byteLength} bytes`)
  const r = readRecord(v, 0, 'unixfdVideoMeta')
  const n = r.n_planes as number
  if (n < 1 || n > MAX_PLANES)
    throw new ProtocolError(`NEW_BUFFER's video meta with ${n} planes (1 to ${MAX_PLANES})`)
  if (v.byteLength < VMETA + 16 * n + 16)
    throw new ProtocolError(`NEW_BUFFER's video meta of ${v.byteLength} bytes for ${n} planes`)
  const offsets: bigint[] = [], strides: number[] = []
  for (let i = 0; i < n; i++) {
    offsets.push(v.getBigUint64(VMETA + 8 * i, true))
    strides.push(v.getInt32(VMETA + 8 * n + 4 * i, true))
  }
  // our description carries flags and format as u32, as the helper writes them
  return { format: (r.format as number) >>> 0, width: r.width as number, height: r.height as number, nPlanes: n,
    flags: (r.flags as number) >>> 0, offsets, strides }
}
