// BufferDesc: the binary description of a GstBuffer exchanged with the native helper. The helper
// describes each buffer it renders this way (sink), and builds the buffer we describe (src). Its memory
// and video-meta records have the same layout as those of the wire (wire.ts), so both share the code.
// header (88): u64 id, pts, dts, duration, offset, offset_end; u32 flags, n_mem, has_video_meta, n_fds;
//              u64 running pts, running dts, base monotonic
// per memory (32): u32 fd index, u32 kind, u64 offset, size, maxsize
// video meta (72): u32 format, width, height, n_planes, flags, reserved; u64 offsets[4]; i32 strides[4]
export const DESC_HEADER = 88
export const DESC_MEM = 32
export const DESC_VMETA = 72

export enum MemKind { Fd = 1, DmaBuf = 2 }

export interface MemoryDesc {
  /** sink: index of the memory in the buffer; src: index of the fd in the message */
  index: number
  kind: MemKind
  offset: bigint
  size: bigint
  maxsize: bigint
}

export interface VideoMetaDesc {
  format: number
  width: number
  height: number
  nPlanes: number
  flags: number
  offsets: bigint[]
  strides: number[]
}

/** Timing that survives the hop between two pipelines: the buffer's running times, and where running
 *  time 0 sits on CLOCK_MONOTONIC (NONE before the sender is PLAYING). The receiver stamps the buffer
 *  with its own running time for the same instant. */
export interface BufferTiming {
  runningPts: bigint
  runningDts: bigint
  baseMonotonic: bigint
}

export interface BufferDesc extends BufferTiming {
  id: bigint
  /** the sender's stream timestamps, as they were */
  pts: bigint
  dts: bigint
  duration: bigint
  offset: bigint
  offsetEnd: bigint
  flags: number
  memories: MemoryDesc[]
  video?: VideoMetaDesc
}

export function readVideoMeta(v: DataView, at: number): VideoMetaDesc {
  const offsets: bigint[] = []
  const strides: number[] = []
  for (let i = 0; i < 4; i++) {
    offsets.push(v.getBigUint64(at + 24 + 8 * i, true))
    strides.push(v.getInt32(at + 56 + 4 * i, true))
  }
  return {
    format: v.getUint32(at, true),
    width: v.getUint32(at + 4, true),
    height: v.getUint32(at + 8, true),
    nPlanes: v.getUint32(at + 12, true),
    flags: v.getUint32(at + 16, true),
    offsets,
    strides,
  }
}

export function writeVideoMeta(v: DataView, at: number, m: VideoMetaDesc): void {
  v.setUint32(at, m.format, true)
  v.setUint32(at + 4, m.width, true)
  v.setUint32(at + 8, m.height, true)
  v.setUint32(at + 12, m.nPlanes, true)
  v.setUint32(at + 16, m.flags, true)
  for (let i = 0; i < 4; i++) {
    v.setBigUint64(at + 24 + 8 * i, m.offsets[i] ?? 0n, true)
    v.setInt32(at + 56 + 4 * i, m.strides[i] ?? 0, true)
  }
}

export function readMemory(v: DataView, at: number): MemoryDesc {
  return {
    index: v.getUint32(at, true),
    kind: v.getUint32(at + 4, true),
    offset: v.getBigUint64(at + 8, true),
    size: v.getBigUint64(at + 16, true),
    maxsize: v.getBigUint64(at + 24, true),
  }
}

export function writeMemory(v: DataView, at: number, m: MemoryDesc): void {
  v.setUint32(at, m.index, true)
  v.setUint32(at + 4, m.kind, true)
  v.setBigUint64(at + 8, m.offset, true)
  v.setBigUint64(at + 16, m.size, true)
  v.setBigUint64(at + 24, m.maxsize, true)
}

export function readTiming(v: DataView, at: number): BufferTiming {
  return {
    runningPts: v.getBigUint64(at, true),
    runningDts: v.getBigUint64(at + 8, true),
    baseMonotonic: v.getBigUint64(at + 16, true),
  }
}

export function writeTiming(v: DataView, at: number, t: BufferTiming): void {
  v.setBigUint64(at, t.runningPts, true)
  v.setBigUint64(at + 8, t.runningDts, true)
  v.setBigUint64(at + 16, t.baseMonotonic, true)
}

/** the first 52 bytes of a BufferDesc and of the wire's BUFFER item: id, timestamps, offsets, flags */
export function readBufferHeader(v: DataView): Omit<BufferDesc, 'memories' | 'video' | keyof BufferTiming> {
  return {
    id: v.getBigUint64(0, true),
    pts: v.getBigUint64(8, true),
    dts: v.getBigUint64(16, true),
    duration: v.getBigUint64(24, true),
    offset: v.getBigUint64(32, true),
    offsetEnd: v.getBigUint64(40, true),
    flags: v.getUint32(48, true),
  }
}

export function writeBufferHeader(v: DataView, d: BufferDesc): void {
  v.setBigUint64(0, d.id, true)
  v.setBigUint64(8, d.pts, true)
  v.setBigUint64(16, d.dts, true)
  v.setBigUint64(24, d.duration, true)
  v.setBigUint64(32, d.offset, true)
  v.setBigUint64(40, d.offsetEnd, true)
  v.setUint32(48, d.flags, true)
}

export function decodeDesc(bytes: Uint8Array): BufferDesc {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const nMem = v.getUint32(52, true)
  const hasVideo = v.getUint32(56, true) !== 0
  const memories: MemoryDesc[] = []
  for (let i = 0; i < nMem; i++)
    memories.push(readMemory(v, DESC_HEADER + i * DESC_MEM))
  return { ...readBufferHeader(v), ...readTiming(v, 64), memories,
    video: hasVideo ? readVideoMeta(v, DESC_HEADER + nMem * DESC_MEM) : undefined }
}

export function encodeDesc(d: BufferDesc, nFds: number): Uint8Array {
  const out = new Uint8Array(DESC_HEADER + d.memories.length * DESC_MEM + (d.video ? DESC_VMETA : 0))
  const v = new DataView(out.buffer)
  writeBufferHeader(v, d)
  v.setUint32(52, d.memories.length, true)
  v.setUint32(56, d.video ? 1 : 0, true)
  v.setUint32(60, nFds, true)
  writeTiming(v, 64, d)
  d.memories.forEach((m, i) => writeMemory(v, DESC_HEADER + i * DESC_MEM, m))
  if (d.video)
    writeVideoMeta(v, DESC_HEADER + d.memories.length * DESC_MEM, d.video)
  return out
}

/** What the helper found out about each fd received with a message (fstat/F_GET_SEALS). */
export interface FdFacts {
  size: bigint
  /** 0: not mappable memory (a pipe, a socket, a directory...), 1: a regular file/memfd */
  kind: number
  seals: number
}

export function decodeFdFacts(bytes: Uint8Array): FdFacts[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const facts: FdFacts[] = []
  for (let at = 0; at + 16 <= bytes.byteLength; at += 16)
    facts.push({ size: v.getBigUint64(at, true), kind: v.getUint32(at + 8, true), seals: v.getUint32(at + 12, true) })
  return facts
}
