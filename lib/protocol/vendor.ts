// The vendor's wire (Qualcomm's qtisocketsink/qtisocketsrc, ../shared/VENDOR-WIRE.md): pure parse,
// no I/O. Same framing as ours (a big-endian length record, then the payload with the fds); the
// payload is a run of fixed-size little-endian structs, each starting with its u32 identity, in no
// particular order, and a parser stops at the first identity it does not know. No greeting, no
// version, no caps.
import { RoiDesc } from './desc'
import { ProtocolError } from './wire'

export enum VendorId {
  Eos = 0,
  Disconnect = 1,
  BufferInfo = 2,
  Frame = 3,
  Tensor = 4,
  Text = 5,
  ReturnBuffer = 6,
  FdCount = 7,
  ProtectionMeta = 8,
  RoiMeta = 9,
  ClassMeta = 10,
  LandmarksMeta = 11,
}

export const VENDOR_SIZES = [4, 4, 72, 88, 60, 1044, 44, 8, 1044, 588, 9876, 4140]
/** memory blocks per buffer (buf_id[10]), tensors per buffer, bytes of text */
export const VENDOR_MAX_BLOCKS = 10
export const VENDOR_MAX_TENSORS = 8
export const VENDOR_TEXT_MAX = 1024

export interface VendorFrame {
  kind: 'frame'
  width: number
  height: number
  /** GstVideoFormat */
  format: number
  nPlanes: number
  offsets: bigint[]
  strides: number[]
  size: bigint
  maxsize: bigint
}

export interface VendorTensor {
  kind: 'tensor'
  /** GstMLType: 1 INT8 ... 10 FLOAT32 */
  type: number
  dimensions: number[]
  size: bigint
  maxsize: bigint
}

export interface VendorText {
  kind: 'text'
  bytes: Uint8Array
}

export type VendorBlock = VendorFrame | VendorTensor | VendorText

export interface VendorBuffer {
  type: 'buffer'
  /** buf_id[i] of block i: the sender's fd number of that block's memory (-1 for text) */
  bufIds: number[]
  pts: bigint
  dts: bigint
  duration: bigint
  /** the sender's buffer came from a pool: its fds are cached by id */
  pooled: boolean
  /** FD_COUNT: how many fds came with the record (undefined without FD_COUNT) */
  nFds?: number
  blocks: VendorBlock[]
  /** their ROI metas: the label as the type, strings cut at 255 bytes; the parameters are the
   *  "ObjectDetection" structure and the "xtraparams" one, as strings, if sent */
  rois: RoiDesc[]
}

export type VendorMessage = VendorBuffer | { type: 'eos' } | { type: 'disconnect' } |
  { type: 'return', ids: number[] }

/** Whether a payload starts like one of the vendor's messages from a sender. */
export function looksVendor(payload: Uint8Array): boolean {
  if (payload.byteLength < 4)
    return false
  const id = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true)
  return id === VendorId.Eos || id === VendorId.BufferInfo || id === VendorId.FdCount
}

const latin1 = new TextDecoder('latin1')

/** a NUL-terminated string of a fixed-size field (bytes after the NUL are garbage) */
function cString(bytes: Uint8Array, at: number, size: number): string {
  const field = bytes.subarray(at, at + size)
  const end = field.indexOf(0)
  return latin1.decode(field.subarray(0, end < 0 ? size : end))
}

/** Parses one payload of the vendor's wire as their receiver does (unknown identity: the rest is
 *  ignored), but refuses what their receiver would misread: a buffer without BUFFER_INFO or without
 *  memory, counts beyond the arrays, text beyond its field. Throws ProtocolError. */
export function decodeVendor(payload: Uint8Array): VendorMessage {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  let info: Omit<VendorBuffer, 'type' | 'blocks' | 'rois' | 'nFds'> | undefined
  let nFds: number | undefined
  let returned: number[] | undefined
  let control: 'eos' | 'disconnect' | undefined
  const blocks: VendorBlock[] = []
  const rois: RoiDesc[] = []
  for (let at = 0; at + 4 <= payload.byteLength;) {
    const id = v.getUint32(at, true)
    const size = VENDOR_SIZES[id]
    if (size === undefined)
      break // as their parser: the rest of the record is not read
    if (at + size > payload.byteLength)
      throw new ProtocolError(`truncated vendor struct ${id} at byte ${at}`)
    switch (id) {
      case VendorId.Eos: control = 'eos'; break
      case VendorId.Disconnect: control = 'disconnect'; break
      case VendorId.BufferInfo: {
        const bufIds = []
        for (let i = 0; i < VENDOR_MAX_BLOCKS; i++)
          bufIds.push(v.getInt32(at + 4 + 4 * i, true))
        info = { bufIds, pts: v.getBigUint64(at + 44, true), dts: v.getBigUint64(at + 52, true),
          duration: v.getBigUint64(at + 60, true), pooled: v.getInt32(at + 68, true) !== 0 }
        break
      }
      case VendorId.Frame: {
        const nPlanes = v.getUint32(at + 16, true)
        if (nPlanes < 1 || nPlanes > 4)
          throw new ProtocolError(`frame with ${nPlanes} planes`)
        const offsets: bigint[] = []
        const strides: number[] = []
        for (let p = 0; p < 4; p++) {
          offsets.push(p < nPlanes ? v.getBigUint64(at + 20 + 8 * p, true) : 0n)
          strides.push(p < nPlanes ? v.getInt32(at + 52 + 4 * p, true) : 0)
        }
        blocks.push({ kind: 'frame', width: v.getUint32(at + 4, true), height: v.getUint32(at + 8, true),
          format: v.getUint32(at + 12, true), nPlanes, offsets, strides, size: v.getBigUint64(at + 72, true),
          maxsize: v.getBigUint64(at + 80, true) })
        break
      }
      case VendorId.Tensor: {
        const n = v.getUint32(at + 8, true)
        if (n > 8)
          throw new ProtocolError(`tensor with ${n} dimensions`)
        const dimensions = []
        for (let d = 0; d < n; d++)
          dimensions.push(v.getUint32(at + 12 + 4 * d, true))
        blocks.push({ kind: 'tensor', type: v.getUint32(at + 4, true), dimensions,
          size: v.getBigUint64(at + 44, true), maxsize: v.getBigUint64(at + 52, true) })
        break
      }
      case VendorId.Text: {
        const n = v.getBigUint64(at + 1028, true)
        if (n > BigInt(VENDOR_TEXT_MAX))
          throw new ProtocolError(`text of ${n} bytes in a field of ${VENDOR_TEXT_MAX}`)
        blocks.push({ kind: 'text', bytes: payload.slice(at + 4, at + 4 + Number(n)) })
        break
      }
      case VendorId.ReturnBuffer: {
        returned = []
        for (let i = 0; i < VENDOR_MAX_BLOCKS; i++)
          returned.push(v.getInt32(at + 4 + 4 * i, true))
        break
      }
      case VendorId.FdCount: nFds = v.getInt32(at + 4, true); break
      case VendorId.RoiMeta: {
        const params = []
        for (const [off, lenAt] of [[60, 316], [324, 580]] as const) {
          if (v.getBigUint64(at + lenAt, true) !== 0n)
            params.push(cString(payload, at + off, 256))
        }
        rois.push({ type: cString(payload, at + 4, 32), id: v.getInt32(at + 36, true), parentId: v.getInt32(at + 40, true),
          x: v.getUint32(at + 44, true), y: v.getUint32(at + 48, true), w: v.getUint32(at + 52, true),
          h: v.getUint32(at + 56, true), params })
        break
      }
      default: break // protection, classification and landmarks metas: not read
    }
    at += size
  }
  if (control) {
    // their sender sends EOS and DISCONNECT alone
    if (info || blocks.length || returned || nFds !== undefined)
      throw new ProtocolError(`${control === 'eos' ? 'end-of-stream' : 'disconnect'} mixed with other structs`)
    return { type: control }
  }
  if (returned) {
    if (nFds === undefined || nFds < 0 || nFds > VENDOR_MAX_BLOCKS)
      throw new ProtocolError(`return of ${nFds ?? 'no'} buffer ids`)
    return { type: 'return', ids: returned.slice(0, nFds) }
  }
  if (!info)
    throw new ProtocolError('vendor message without BUFFER_INFO')
  if (blocks.length === 0)
    throw new ProtocolError('vendor buffer without a memory block')
  if (blocks.length > VENDOR_MAX_BLOCKS)
    throw new ProtocolError(`vendor buffer with ${blocks.length} memory blocks (at most ${VENDOR_MAX_BLOCKS})`)
  if (nFds !== undefined && (nFds < 0 || nFds > VENDOR_MAX_BLOCKS))
    throw new ProtocolError(`FD_COUNT of ${nFds}`)
  return { type: 'buffer', ...info, nFds, blocks, rois }
}

/** what a GstVideoFormat number of the vendor's FRAME is called in caps (only the usual ones) */
export const VIDEO_FORMATS: Record<number, string> = {
  2: 'I420', 3: 'YV12', 4: 'YUY2', 5: 'UYVY', 7: 'RGBx', 8: 'BGRx', 11: 'RGBA', 12: 'BGRA', 15: 'RGB', 16: 'BGR',
  23: 'NV12', 24: 'NV21', 25: 'GRAY8',
}


// ---- encoding (a sender speaking to their receiver) -----------------------------------------------

/** One buffer message: [FD_COUNT] BUFFER_INFO, the blocks, then the ROI metas (video only). Unused
 *  array entries and string tails are zeros (theirs are garbage). */
export function encodeVendorBuffer(m: Omit<VendorBuffer, 'type'>): Uint8Array {
  const size = (m.nFds ? 8 : 0) + 72 + m.blocks.reduce((n, b) =>
    n + (b.kind === 'frame' ? 88 : b.kind === 'tensor' ? 60 : 1044), 0) + 588 * m.rois.length
  const out = new Uint8Array(size)
  const v = new DataView(out.buffer)
  let at = 0
  if (m.nFds) {
    v.setUint32(0, VendorId.FdCount, true)
    v.setInt32(4, m.nFds, true)
    at = 8
  }
  v.setUint32(at, VendorId.BufferInfo, true)
  m.bufIds.forEach((id, i) => v.setInt32(at + 4 + 4 * i, id, true))
  v.setBigUint64(at + 44, m.pts, true)
  v.setBigUint64(at + 52, m.dts, true)
  v.setBigUint64(at + 60, m.duration, true)
  v.setInt32(at + 68, m.pooled ? 1 : 0, true)
  at += 72
  for (const b of m.blocks) {
    if (b.kind === 'frame') {
      v.setUint32(at, VendorId.Frame, true)
      v.setUint32(at + 4, b.width, true)
      v.setUint32(at + 8, b.height, true)
      v.setUint32(at + 12, b.format, true)
      v.setUint32(at + 16, b.nPlanes, true)
      for (let p = 0; p < b.nPlanes; p++) {
        v.setBigUint64(at + 20 + 8 * p, b.offsets[p]!, true)
        v.setInt32(at + 52 + 4 * p, b.strides[p]!, true)
      }
      v.setBigUint64(at + 72, b.size, true)
      v.setBigUint64(at + 80, b.maxsize, true)
      at += 88
    } else if (b.kind === 'tensor') {
      v.setUint32(at, VendorId.Tensor, true)
      v.setUint32(at + 4, b.type, true)
      v.setUint32(at + 8, b.dimensions.length, true)
      b.dimensions.forEach((d, i) => v.setUint32(at + 12 + 4 * i, d, true))
      v.setBigUint64(at + 44, b.size, true)
      v.setBigUint64(at + 52, b.maxsize, true)
      at += 60
    } else {
      v.setUint32(at, VendorId.Text, true)
      out.set(b.bytes, at + 4)
      v.setBigUint64(at + 1028, BigInt(b.bytes.byteLength), true)
      v.setBigUint64(at + 1036, BigInt(b.bytes.byteLength), true) // not their maxsize: see §4
      at += 1044
    }
  }
  const utf8 = new TextEncoder()
  for (const r of m.rois) {
    v.setUint32(at, VendorId.RoiMeta, true)
    out.set(utf8.encode(r.type).subarray(0, 31), at + 4)
    v.setInt32(at + 36, r.id, true)
    v.setInt32(at + 40, r.parentId, true)
    v.setUint32(at + 44, r.x, true)
    v.setUint32(at + 48, r.y, true)
    v.setUint32(at + 52, r.w, true)
    v.setUint32(at + 56, r.h, true)
    // their two parameter slots: the "ObjectDetection" structure and the "xtraparams" one
    for (const [name, off, lenAt] of [['ObjectDetection', 60, 316], ['xtraparams', 324, 580]] as const) {
      const p = r.params.find(s => s.startsWith(name))
      if (p) {
        const bytes = utf8.encode(p).subarray(0, 255)
        out.set(bytes, at + off)
        v.setBigUint64(at + lenAt, BigInt(bytes.byteLength + 1), true)
      }
    }
    at += 588
  }
  return out
}
