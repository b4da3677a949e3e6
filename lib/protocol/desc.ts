// BufferDesc: the binary description of a GstBuffer exchanged with the native helper. The helper
// describes each buffer it renders this way (sink), and builds the buffer we describe (src). Its memory,
// video-meta and region-of-interest records have the same layout as those of the wire (wire.ts), so
// both share the code.
// header (104): u64 id, pts, dts, duration, offset, offset_end; u32 flags, n_mem, has_video_meta, n_fds;
//               u64 running pts, running dts, base monotonic; u32 n_roi, inline bytes; u32 fds, n_forget
//               (fds: how memories name their fd: 0 by position among the message's fds, 1 by cache
//               id, 2 the vendor's pooled buf_id, 3 the vendor's unpooled buf_id: see `vendor`)
// per memory (32): u32 fd index (1.2, cached: the fd's cache id), u32 kind, u64 offset, size, maxsize
// video meta (72): u32 format, width, height, n_planes, flags, reserved; u64 offsets[4]; i32 strides[4]
// per region of interest: u32 record length, then the ROI record of the wire (readRoi)
// then the bytes of the inline memories, one after the other, padded to 4
// then, if cached (the fd cache of protocol 1.2 is in use): the helper's description of a buffer to
// send has per memory u32 id, u32 fresh (its fd goes with this message); ours of a buffer received
// has per fd that came u32 id; both end with u32 ids to forget[n_forget]
// (The records are declared once, in layout.ts: desc, memory, videoMeta, roi.)
import { LAYOUT, readRecord, writeRecord } from './layout'

export const DESC_HEADER = LAYOUT.desc.size
export const DESC_MEM = LAYOUT.memory.size
export const DESC_VMETA = LAYOUT.videoMeta.size
/** where the running times start in the header */
export const DESC_TIMING = LAYOUT.desc.offset.running_pts!
/** the fixed part of a region-of-interest record, after its length */
export const ROI_FIXED = LAYOUT.roi.size
const D = LAYOUT.desc.offset as Record<string, number>

export enum MemKind { Fd = 1, DmaBuf = 2, Inline = 3 }

export interface MemoryDesc {
  /** sink: index of the memory in the buffer; src: index of the fd in the message */
  index: number
  kind: MemKind
  offset: bigint
  size: bigint
  maxsize: bigint
}

/** GstVideoRegionOfInterestMeta: the bounding box of something found in the frame, with its
 *  parameters (GstStructures, as strings) */
export interface RoiDesc {
  type: string
  id: number
  parentId: number
  x: number
  y: number
  w: number
  h: number
  params: string[]
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

/** The fd cache (protocol 1.2): the receiver keeps each fd by an id of the sender's, and later
 *  messages name the id instead of sending the fd again. */
export interface DescCache {
  /** to send: per memory, the id of its fd (0 for inline memory); received: per fd that came with the
   *  message, the id the sender gives it */
  ids: number[]
  /** to send: per memory, whether its fd goes with this message (the receiver does not have it) */
  fresh?: boolean[]
  /** ids the receiver forgets */
  forget: number[]
  /** to send: where the ids start in the description */
  at?: number
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
  rois?: RoiDesc[]
  /** the bytes of the inline memories, one after the other */
  inline?: Uint8Array
  cache?: DescCache
  /** received on the vendor's wire: each memory's index is the buf_id of its block, which goes back
   *  in RETURN_BUFFER; pooled: its fd is cached by that id (the fds that came belong to the blocks not
   *  cached yet), else the i-th fd block has the i-th fd */
  vendor?: 'pooled' | 'unpooled'
}

export function readVideoMeta(v: DataView, at: number): VideoMetaDesc {
  const r = readRecord(v, at, 'videoMeta')
  return { format: r.format as number, width: r.width as number, height: r.height as number,
    nPlanes: r.n_planes as number, flags: r.flags as number, offsets: r.offsets as bigint[], strides: r.strides as number[] }
}

export function writeVideoMeta(v: DataView, at: number, m: VideoMetaDesc): void {
  writeRecord(v, at, 'videoMeta', { format: m.format, width: m.width, height: m.height, n_planes: m.nPlanes,
    flags: m.flags, offsets: [0, 1, 2, 3].map(i => m.offsets[i] ?? 0n), strides: [0, 1, 2, 3].map(i => m.strides[i] ?? 0) })
}

export function readMemory(v: DataView, at: number): MemoryDesc {
  const r = readRecord(v, at, 'memory')
  return { index: r.fd as number, kind: r.kind as number, offset: r.offset as bigint, size: r.size as bigint,
    maxsize: r.maxsize as bigint }
}

export function writeMemory(v: DataView, at: number, m: MemoryDesc): void {
  writeRecord(v, at, 'memory', { fd: m.index, kind: m.kind, offset: m.offset, size: m.size, maxsize: m.maxsize })
}

/** the running times and base monotonic, at `at` (where running_pts is: the three follow each other
 *  in both the description and the wire's BUFFER) */
export function readTiming(v: DataView, at: number): BufferTiming {
  return {
    runningPts: v.getBigUint64(at, true),
    runningDts: v.getBigUint64(at + D.running_dts! - D.running_pts!, true),
    baseMonotonic: v.getBigUint64(at + D.base_monotonic! - D.running_pts!, true),
  }
}

export function writeTiming(v: DataView, at: number, t: BufferTiming): void {
  v.setBigUint64(at, t.runningPts, true)
  v.setBigUint64(at + D.running_dts! - D.running_pts!, t.runningDts, true)
  v.setBigUint64(at + D.base_monotonic! - D.running_pts!, t.baseMonotonic, true)
}

/** the first fields of a BufferDesc and of the wire's BUFFER item, the same in both (layout.test.ts
 *  checks): id, timestamps, offsets, flags */
export function readBufferHeader(v: DataView): Omit<BufferDesc, 'memories' | 'video' | keyof BufferTiming> {
  const r = readRecord(v, 0, 'buffer')
  return { id: r.id as bigint, pts: r.pts as bigint, dts: r.dts as bigint, duration: r.duration as bigint,
    offset: r.offset as bigint, offsetEnd: r.offset_end as bigint, flags: r.flags as number }
}

export function writeBufferHeader(v: DataView, d: BufferDesc): void {
  writeRecord(v, 0, 'buffer', { id: d.id, pts: d.pts, dts: d.dts, duration: d.duration, offset: d.offset,
    offset_end: d.offsetEnd, flags: d.flags })
}

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })
/** n rounded up to a multiple of 4 (arithmetic, not bitwise: n may be any u32) */
export const pad4 = (n: number) => n + (4 - n % 4) % 4

/** A region-of-interest record: i32 id, parent_id; u32 x, y, w, h, type length, parameter count; the
 *  type; per parameter u32 length and the string; every string padded to 4 bytes. `end` bounds it.
 *  Returns the record and its length; throws RangeError or TypeError on a record that does not fit. */
export function readRoi(bytes: Uint8Array, at: number, end: number): [RoiDesc, number] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, end)
  if (at + ROI_FIXED > end)
    throw new RangeError('truncated region of interest')
  const r = readRecord(v, at, 'roi')
  const typeLength = r.type_length as number
  const nParams = r.n_params as number
  let p = at + ROI_FIXED
  if (typeLength > end - p)
    throw new RangeError('region-of-interest type beyond the record')
  const type = utf8Decoder.decode(bytes.subarray(p, p + typeLength))
  p += pad4(typeLength)
  const params: string[] = []
  for (let i = 0; i < nParams; i++) {
    if (p + 4 > end)
      throw new RangeError('truncated region-of-interest parameter')
    const n = v.getUint32(p, true)
    if (n > end - p - 4)
      throw new RangeError('region-of-interest parameter beyond the record')
    params.push(utf8Decoder.decode(bytes.subarray(p + 4, p + 4 + n)))
    p += 4 + pad4(n)
  }
  return [{ type, id: r.id as number, parentId: r.parent_id as number, x: r.x as number, y: r.y as number,
    w: r.w as number, h: r.h as number, params },
  Math.min(p, end) - at]
}

export function encodeRoi(r: RoiDesc): Uint8Array {
  const type = utf8.encode(r.type)
  const params = r.params.map(p => utf8.encode(p))
  const out = new Uint8Array(ROI_FIXED + pad4(type.byteLength) + params.reduce((n, p) => n + 4 + pad4(p.byteLength), 0))
  const v = new DataView(out.buffer)
  writeRecord(v, 0, 'roi', { id: r.id, parent_id: r.parentId, x: r.x, y: r.y, w: r.w, h: r.h,
    type_length: type.byteLength, n_params: params.length })
  out.set(type, ROI_FIXED)
  let p = ROI_FIXED + pad4(type.byteLength)
  for (const param of params) {
    v.setUint32(p, param.byteLength, true)
    out.set(param, p + 4)
    p += 4 + pad4(param.byteLength)
  }
  return out
}

export function decodeDesc(bytes: Uint8Array): BufferDesc {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const nMem = v.getUint32(D.n_memories!, true)
  const hasVideo = v.getUint32(D.has_video_meta!, true) !== 0
  const nRoi = v.getUint32(D.n_rois!, true)
  const inlineLength = v.getUint32(D.inline_length!, true)
  const memories: MemoryDesc[] = []
  for (let i = 0; i < nMem; i++)
    memories.push(readMemory(v, DESC_HEADER + i * DESC_MEM))
  let at = DESC_HEADER + nMem * DESC_MEM
  const video = hasVideo ? readVideoMeta(v, at) : undefined
  at += hasVideo ? DESC_VMETA : 0
  const rois: RoiDesc[] = []
  for (let i = 0; i < nRoi; i++) {
    const length = v.getUint32(at, true)
    rois.push(readRoi(bytes, at + 4, at + length)[0])
    at += length
  }
  let end = bytes.byteLength
  let cache: DescCache | undefined
  const mode = v.getUint32(D.fd_naming!, true)
  if (mode) {
    const nForget = v.getUint32(D.n_forget!, true)
    end -= 8 * nMem + 4 * nForget
    cache = { ids: [], fresh: [], forget: [], at: end }
    for (let i = 0; i < nMem; i++) {
      cache.ids.push(v.getUint32(end + 8 * i, true))
      cache.fresh!.push(v.getUint32(end + 8 * i + 4, true) !== 0)
    }
    for (let i = 0; i < nForget; i++)
      cache.forget.push(v.getUint32(end + 8 * nMem + 4 * i, true))
  }
  const inlineAt = end - pad4(inlineLength)
  const d: BufferDesc = { ...readBufferHeader(v), ...readTiming(v, DESC_TIMING), memories, video,
    rois: nRoi ? rois : undefined,
    inline: inlineLength ? bytes.slice(inlineAt, inlineAt + inlineLength) : undefined }
  if (cache)
    d.cache = cache
  if (mode === 2 || mode === 3)
    d.vendor = mode === 2 ? 'pooled' : 'unpooled'
  return d
}

/** Our description of a buffer received with nFds fds, for the helper to build; with its cache
 *  section (ids of the fds that came, ids to forget) when the sender caches fds. */
export function encodeDesc(d: BufferDesc, nFds: number): Uint8Array {
  const rois = (d.rois ?? []).map(encodeRoi)
  const inlineLength = d.inline?.byteLength ?? 0
  const cacheLength = d.cache ? 4 * (d.cache.ids.length + d.cache.forget.length) : 0
  const out = new Uint8Array(DESC_HEADER + d.memories.length * DESC_MEM + (d.video ? DESC_VMETA : 0) +
    rois.reduce((n, r) => n + 4 + r.byteLength, 0) + pad4(inlineLength) + cacheLength)
  const v = new DataView(out.buffer)
  writeBufferHeader(v, d)
  v.setUint32(D.n_memories!, d.memories.length, true)
  v.setUint32(D.has_video_meta!, d.video ? 1 : 0, true)
  v.setUint32(D.n_fds!, nFds, true)
  writeTiming(v, DESC_TIMING, d)
  v.setUint32(D.n_rois!, rois.length, true)
  v.setUint32(D.inline_length!, inlineLength, true)
  d.memories.forEach((m, i) => writeMemory(v, DESC_HEADER + i * DESC_MEM, m))
  let at = DESC_HEADER + d.memories.length * DESC_MEM
  if (d.video) {
    writeVideoMeta(v, at, d.video)
    at += DESC_VMETA
  }
  for (const r of rois) {
    v.setUint32(at, 4 + r.byteLength, true)
    out.set(r, at + 4)
    at += 4 + r.byteLength
  }
  if (d.inline)
    out.set(d.inline, at)
  if (d.vendor)
    v.setUint32(D.fd_naming!, d.vendor === 'pooled' ? 2 : 3, true)
  if (d.cache) {
    v.setUint32(D.fd_naming!, 1, true)
    v.setUint32(D.n_forget!, d.cache.forget.length, true)
    at = out.byteLength - cacheLength
    for (const id of [...d.cache.ids, ...d.cache.forget]) {
      v.setUint32(at, id, true)
      at += 4
    }
  }
  return out
}
