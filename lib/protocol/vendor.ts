// The vendor's wire (Qualcomm's qtisocketsink/qtisocketsrc, ../shared/VENDOR-WIRE.md): pure parse,
// no I/O. Same framing as ours (a big-endian length record, then the payload with the fds); the
// payload is a run of fixed-size little-endian structs, each starting with its u32 identity, in no
// particular order, and a parser stops at the first identity it does not know. No greeting, no
// version, no caps.
import { RoiDesc } from './desc'
import { LAYOUT, readRecord, VENDOR_IDS, VENDOR_SIZES, writeRecord } from './layout'
import { ProtocolError } from './wire'

/** their structs' identities (lib/protocol/layout.ts) */
export enum VendorId {
  Eos = VENDOR_IDS.eos!,
  Disconnect = VENDOR_IDS.disconnect!,
  BufferInfo = VENDOR_IDS.bufferInfo!,
  Frame = VENDOR_IDS.frame!,
  Tensor = VENDOR_IDS.tensor!,
  Text = VENDOR_IDS.text!,
  ReturnBuffer = VENDOR_IDS.returnBuffer!,
  FdCount = VENDOR_IDS.fdCount!,
  ProtectionMeta = VENDOR_IDS.protectionMeta!,
  RoiMeta = VENDOR_IDS.roiMeta!,
  ClassMeta = VENDOR_IDS.classMeta!,
  LandmarksMeta = VENDOR_IDS.landmarksMeta!,
}

export { VENDOR_SIZES }
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
function cString(field: Uint8Array): string {
  const end = field.indexOf(0)
  return latin1.decode(field.subarray(0, end < 0 ? field.byteLength : end))
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
        const r = readRecord(v, at, 'vendorBufferInfo')
        info = { bufIds: r.buf_id as number[], pts: r.pts as bigint, dts: r.dts as bigint, duration: r.duration as bigint,
          pooled: r.use_buffer_pool !== 0 }
        break
      }
      case VendorId.Frame: {
        const r = readRecord(v, at, 'vendorFrame')
        const nPlanes = r.n_planes as number
        if (nPlanes < 1 || nPlanes > 4)
          throw new ProtocolError(`frame with ${nPlanes} planes`)
        // entries at or beyond n_planes are their garbage
        const offsets = (r.offsets as bigint[]).map((o, p) => p < nPlanes ? o : 0n)
        const strides = (r.strides as number[]).map((s, p) => p < nPlanes ? s : 0)
        blocks.push({ kind: 'frame', width: r.width as number, height: r.height as number, format: r.format as number,
          nPlanes, offsets, strides, size: r.size as bigint, maxsize: r.maxsize as bigint })
        break
      }
      case VendorId.Tensor: {
        const r = readRecord(v, at, 'vendorTensor')
        const n = r.n_dimensions as number
        if (n > 8)
          throw new ProtocolError(`tensor with ${n} dimensions`)
        blocks.push({ kind: 'tensor', type: r.type as number, dimensions: (r.dimensions as number[]).slice(0, n),
          size: r.size as bigint, maxsize: r.maxsize as bigint })
        break
      }
      case VendorId.Text: {
        const r = readRecord(v, at, 'vendorText')
        const n = r.size as bigint
        if (n > BigInt(VENDOR_TEXT_MAX))
          throw new ProtocolError(`text of ${n} bytes in a field of ${VENDOR_TEXT_MAX}`)
        blocks.push({ kind: 'text', bytes: (r.contents as Uint8Array).slice(0, Number(n)) })
        break
      }
      case VendorId.ReturnBuffer:
        returned = readRecord(v, at, 'vendorReturnBuffer').buf_id as number[]
        break
      case VendorId.FdCount: nFds = readRecord(v, at, 'vendorFdCount').n_fds as number; break
      case VendorId.RoiMeta: {
        const r = readRecord(v, at, 'vendorRoiMeta')
        const params = []
        if (r.detection_length !== 0n)
          params.push(cString(r.detection as Uint8Array))
        if (r.extra_length !== 0n)
          params.push(cString(r.extra as Uint8Array))
        rois.push({ type: cString(r.label as Uint8Array), id: r.id as number, parentId: r.parent_id as number,
          x: r.x as number, y: r.y as number, w: r.w as number, h: r.h as number, params })
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
  const L = LAYOUT
  const blockSize = (b: VendorBlock) => b.kind === 'frame' ? L.vendorFrame.size : b.kind === 'tensor' ? L.vendorTensor.size
    : L.vendorText.size
  const size = (m.nFds ? L.vendorFdCount.size : 0) + L.vendorBufferInfo.size + m.blocks.reduce((n, b) => n + blockSize(b), 0) +
    L.vendorRoiMeta.size * m.rois.length
  const out = new Uint8Array(size)
  const v = new DataView(out.buffer)
  let at = 0
  if (m.nFds) {
    writeRecord(v, 0, 'vendorFdCount', { identity: VendorId.FdCount, n_fds: m.nFds })
    at = L.vendorFdCount.size
  }
  writeRecord(v, at, 'vendorBufferInfo', { identity: VendorId.BufferInfo, buf_id: m.bufIds, pts: m.pts, dts: m.dts,
    duration: m.duration, use_buffer_pool: m.pooled ? 1 : 0 })
  at += L.vendorBufferInfo.size
  for (const b of m.blocks) {
    if (b.kind === 'frame') {
      writeRecord(v, at, 'vendorFrame', { identity: VendorId.Frame, width: b.width, height: b.height, format: b.format,
        n_planes: b.nPlanes, offsets: b.offsets.slice(0, b.nPlanes), strides: b.strides.slice(0, b.nPlanes), size: b.size,
        maxsize: b.maxsize })
    } else if (b.kind === 'tensor') {
      writeRecord(v, at, 'vendorTensor', { identity: VendorId.Tensor, type: b.type, n_dimensions: b.dimensions.length,
        dimensions: b.dimensions, size: b.size, maxsize: b.maxsize })
    } else {
      // not their maxsize: see ../shared/VENDOR-WIRE.md section 4
      writeRecord(v, at, 'vendorText', { identity: VendorId.Text, contents: b.bytes, size: BigInt(b.bytes.byteLength),
        maxsize: BigInt(b.bytes.byteLength) })
    }
    at += blockSize(b)
  }
  const utf8 = new TextEncoder()
  for (const r of m.rois) {
    const fields: Record<string, Uint8Array | number | bigint> = { identity: VendorId.RoiMeta,
      label: utf8.encode(r.type).subarray(0, 31), id: r.id, parent_id: r.parentId, x: r.x, y: r.y, w: r.w, h: r.h }
    // their two parameter slots: the "ObjectDetection" structure and the "xtraparams" one
    for (const [name, field] of [['ObjectDetection', 'detection'], ['xtraparams', 'extra']] as const) {
      const p = r.params.find(s => s.startsWith(name))
      if (p) {
        const bytes = utf8.encode(p).subarray(0, 255)
        fields[field] = bytes
        fields[`${field}_length`] = BigInt(bytes.byteLength + 1)
      }
    }
    writeRecord(v, at, 'vendorRoiMeta', fields)
    at += L.vendorRoiMeta.size
  }
  return out
}
