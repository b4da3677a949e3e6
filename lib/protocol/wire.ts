// The qtisocket wire protocol, version 1 (docs/protocol.md): pure encode/parse, no I/O.
//
// Framing (done natively, shared with the vendor's elements): a 4-byte big-endian length record,
// then the payload record with the fds attached as SCM_RIGHTS. A payload is a sequence of items,
// each starting with a u32 little-endian identity:
//  - the vendor's items (identities 0..11) have fixed sizes and no length field;
//  - our items have identity 0x5154xxxx ("QT"), a u32 body length, and the body padded to 4 bytes.
// A vendor parser stops at the first identity it does not know, so our items always come last.
import { BufferDesc, DESC_MEM, DESC_VMETA, encodeRoi, MemKind, pad4, readBufferHeader, readMemory, readRoi, readTiming,
  readVideoMeta, RoiDesc, VideoMetaDesc, writeBufferHeader, writeMemory, writeTiming, writeVideoMeta } from './desc'
import { ITEM_BASE, ITEMS, LAYOUT, LIMITS, readRecord, VENDOR_SIZES, writeRecord } from './layout'

export const PROTOCOL_MAJOR = 1
export const PROTOCOL_MINOR = 2
/** the first minor version with inline memories (kind 3, DATA) and ROI_META */
export const MINOR_INLINE = 1
/** the first minor version with the fd cache (FDS, FORGET; memories name their fd by id) */
export const MINOR_FD_CACHE = 2
export const SOFTWARE = 'qtisocket-ts'
/** HELLO feature bit (1.2): the receiver serves another sender; it greets again when it is free */
export const FEATURE_BUSY = 1
/** HELLO feature bit (1.2): the receiver must not miss buffers (a recorder): a sender that skips slow
 *  receivers waits for this one instead. Senders that do not know it ignore it. */
export const FEATURE_NO_SKIP = 2

export { ITEM_BASE }
/** our items' identities (lib/protocol/layout.ts) */
export enum Item {
  Hello = ITEM_BASE | ITEMS.hello,
  Caps = ITEM_BASE | ITEMS.caps,
  Buffer = ITEM_BASE | ITEMS.buffer,
  VideoMeta = ITEM_BASE | ITEMS.videoMeta,
  Release = ITEM_BASE | ITEMS.release,
  RoiMeta = ITEM_BASE | ITEMS.roiMeta,
  Data = ITEM_BASE | ITEMS.data,
  Fds = ITEM_BASE | ITEMS.fds,
  Forget = ITEM_BASE | ITEMS.forget,
}

/** The vendor's identities that we use as they are. */
export enum VendorItem {
  Eos = 0,
  Disconnect = 1,
}
export const VENDOR_ITEM_SIZES = VENDOR_SIZES

/** limits a receiver enforces before it trusts a message (lib/protocol/layout.ts LIMITS, which the
 *  helper shares) */
export const MAX_MEMORIES = LIMITS.memories
export const MAX_CAPS_LENGTH = LIMITS.capsLength
export const MAX_ROIS = LIMITS.rois
/** memory that is not fd-backed travels inline up to this many bytes per buffer; a receiver accepts
 *  up to MAX_INLINE */
export const INLINE_MAX = LIMITS.inlineSend
export const MAX_INLINE = LIMITS.data
/** fds per message, and ids a receiver keeps cached */
export const MAX_FDS = LIMITS.fds
export const MAX_CACHED = LIMITS.cached

export class ProtocolError extends Error {}

export interface Hello { type: 'hello', major: number, minor: number, features: number, software: string }
export interface BufferMessage {
  type: 'buffer'
  caps?: string
  buffer: BufferDesc
  /** where the BUFFER item's body starts in the payload */
  bufferAt: number
  /** 1.2: the ids the sender gives the fds that came with the message, in order (FDS) */
  fdIds?: number[]
  /** 1.2: ids of fds the receiver may forget (FORGET) */
  forget?: number[]
}

/** The fd cache's items of a message (1.2): ids of the fds that go with it, ids to forget. */
export interface CacheItems { fdIds: number[], forget: number[] }
export interface EosMessage { type: 'eos' }
export interface ReleaseMessage { type: 'release', ids: bigint[] }
export type Message = Hello | BufferMessage | EosMessage | ReleaseMessage


// ---- encoding ------------------------------------------------------------------------------------
const BUFFER_HEADER = LAYOUT.buffer.size
/** where the running times start in the BUFFER item's body */
const BUFFER_TIMING = LAYOUT.buffer.offset.running_pts!
const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

/** our items' header (identity, body length) */
const HEADER = LAYOUT.item.size

/** Lays out items: each as (identity, body) with our header and padding. */
function items(parts: Array<[number, Uint8Array | null]>): Uint8Array {
  let size = 0
  for (const [id, body] of parts)
    size += isOurs(id) ? HEADER + pad4(body!.byteLength) : VENDOR_ITEM_SIZES[id]!
  const out = new Uint8Array(size)
  const v = new DataView(out.buffer)
  let at = 0
  for (const [id, body] of parts) {
    if (isOurs(id)) {
      writeRecord(v, at, 'item', { identity: id, length: body!.byteLength })
      out.set(body!, at + HEADER)
      at += HEADER + pad4(body!.byteLength)
    } else {
      v.setUint32(at, id, true)
      if (body)
        out.set(body.subarray(0, VENDOR_ITEM_SIZES[id]! - 4), at + 4)
      at += VENDOR_ITEM_SIZES[id]!
    }
  }
  return out
}

function isOurs(id: number): boolean {
  return (id & 0xffff0000) >>> 0 === ITEM_BASE
}

export function encodeHello(features = 0): Uint8Array {
  const sw = utf8.encode(SOFTWARE)
  const body = new Uint8Array(LAYOUT.hello.size + sw.byteLength)
  writeRecord(new DataView(body.buffer), 0, 'hello', { major: PROTOCOL_MAJOR, minor: PROTOCOL_MINOR, features })
  body.set(sw, LAYOUT.hello.size)
  return items([[Item.Hello, body]])
}

/** The CAPS item alone: the sink's helper sends it with the next buffer it encodes. */
export function encodeCaps(caps: string): Uint8Array {
  return items([[Item.Caps, utf8.encode(caps)]])
}

/** A buffer message. With `cache` (1.2), each memory's fd index is the id its fd is cached by, and
 *  the FDS and FORGET items follow when they are not empty. */
export function encodeBuffer(buffer: BufferDesc, caps?: string, cache?: CacheItems): Uint8Array {
  const parts: Array<[number, Uint8Array]> = []
  if (caps !== undefined)
    parts.push([Item.Caps, utf8.encode(caps)])
  const body = new Uint8Array(BUFFER_HEADER + buffer.memories.length * DESC_MEM)
  const v = new DataView(body.buffer)
  writeBufferHeader(v, buffer)
  v.setUint32(LAYOUT.buffer.offset.n_memories!, buffer.memories.length, true)
  writeTiming(v, BUFFER_TIMING, buffer)
  buffer.memories.forEach((m, i) => writeMemory(v, BUFFER_HEADER + i * DESC_MEM, m))
  parts.push([Item.Buffer, body])
  if (buffer.video) {
    const vm = new Uint8Array(DESC_VMETA)
    writeVideoMeta(new DataView(vm.buffer), 0, buffer.video)
    parts.push([Item.VideoMeta, vm])
  }
  for (const roi of buffer.rois ?? [])
    parts.push([Item.RoiMeta, encodeRoi(roi)])
  if (buffer.inline)
    parts.push([Item.Data, buffer.inline])
  if (cache?.fdIds.length)
    parts.push([Item.Fds, u32s(cache.fdIds)])
  if (cache?.forget.length)
    parts.push([Item.Forget, u32s(cache.forget)])
  return items(parts)
}

function u32s(xs: number[]): Uint8Array {
  const out = new Uint8Array(4 * xs.length)
  const v = new DataView(out.buffer)
  xs.forEach((x, i) => v.setUint32(4 * i, x, true))
  return out
}

function readU32s(body: Uint8Array, what: string, max: number): number[] {
  if (body.byteLength % 4 !== 0 || body.byteLength / 4 > max)
    throw new ProtocolError(`${what} item of ${body.byteLength} bytes (at most ${max} ids of 4 bytes)`)
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const ids = []
  for (let at = 0; at < body.byteLength; at += 4)
    ids.push(v.getUint32(at, true))
  return ids
}

export function encodeEos(): Uint8Array {
  return items([[VendorItem.Eos, null]])
}

export function encodeRelease(ids: bigint[]): Uint8Array {
  const body = new Uint8Array(LAYOUT.release.size + 8 * ids.length)
  const v = new DataView(body.buffer)
  writeRecord(v, 0, 'release', { count: ids.length, reserved: 0 })
  ids.forEach((id, i) => v.setBigUint64(LAYOUT.release.size + 8 * i, id, true))
  return items([[Item.Release, body]])
}

// ---- parsing --------------------------------------------------------------------------------------
interface RawItem { id: number, body: Uint8Array }

export function splitItems(payload: Uint8Array): RawItem[] {
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength)
  const out: RawItem[] = []
  let at = 0
  while (at < payload.byteLength) {
    if (at + 4 > payload.byteLength)
      throw new ProtocolError(`truncated item identity at byte ${at}`)
    const id = v.getUint32(at, true)
    if (isOurs(id)) {
      if (at + HEADER > payload.byteLength)
        throw new ProtocolError(`truncated item header at byte ${at}`)
      const len = v.getUint32(at + LAYOUT.item.offset.length!, true)
      if (pad4(len) > payload.byteLength - at - HEADER)
        throw new ProtocolError(`item 0x${id.toString(16)} claims ${len} bytes (padded to ${pad4(len)}), ` +
          `only ${payload.byteLength - at - HEADER} left`)
      out.push({ id, body: payload.subarray(at + HEADER, at + HEADER + len) })
      at += HEADER + pad4(len)
    } else {
      const size = VENDOR_ITEM_SIZES[id]
      if (size === undefined)
        throw new ProtocolError(`unknown item identity 0x${id.toString(16)} at byte ${at}`)
      if (size > payload.byteLength - at)
        throw new ProtocolError(`truncated vendor item ${id} at byte ${at}`)
      out.push({ id, body: payload.subarray(at + 4, at + size) })
      at += size
    }
  }
  return out
}

function parseBuffer(body: Uint8Array): BufferDesc {
  if (body.byteLength < BUFFER_HEADER)
    throw new ProtocolError(`buffer item of ${body.byteLength} bytes is too short`)
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength)
  const n = v.getUint32(LAYOUT.buffer.offset.n_memories!, true)
  if (n > MAX_MEMORIES)
    throw new ProtocolError(`buffer with ${n} memories (at most ${MAX_MEMORIES})`)
  if (body.byteLength < BUFFER_HEADER + n * DESC_MEM)
    throw new ProtocolError(`buffer item announces ${n} memories in ${body.byteLength} bytes`)
  const memories = []
  for (let i = 0; i < n; i++) {
    const m = readMemory(v, BUFFER_HEADER + i * DESC_MEM)
    if (m.kind !== MemKind.Fd && m.kind !== MemKind.DmaBuf && m.kind !== MemKind.Inline)
      throw new ProtocolError(`memory ${i} of unknown kind ${m.kind}`)
    memories.push(m)
  }
  return { ...readBufferHeader(v), ...readTiming(v, BUFFER_TIMING), memories }
}

function parseVideoMeta(body: Uint8Array): VideoMetaDesc {
  if (body.byteLength < DESC_VMETA)
    throw new ProtocolError(`video meta item of ${body.byteLength} bytes is too short`)
  const m = readVideoMeta(new DataView(body.buffer, body.byteOffset, body.byteLength), 0)
  if (m.nPlanes < 1 || m.nPlanes > 4)
    throw new ProtocolError(`video meta with ${m.nPlanes} planes`)
  return m
}

/** Why GStreamer's parser would balk at this one-structure string (it logs a CRITICAL for a bad
 *  structure name before it fails), or undefined: the name starts with a letter and has only letters,
 *  digits and "/-_.:+", and there is no second structure (no ";" outside quotes). */
export function structureProblem(text: string): string | undefined {
  const name = text.match(/^\s*([^,;(\s]*)/)![1]!
  if (!/^[A-Za-z][A-Za-z0-9/\-_.:+]*$/.test(name))
    return `"${name}" is not a structure name`
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\')
      i++
    else if (c === '"')
      quoted = !quoted
    else if (c === ';' && !quoted && text.slice(i + 1).trim() !== '')
      return 'more than one structure'
  }
  return undefined
}

function parseRoi(body: Uint8Array): RoiDesc {
  try {
    const [roi, length] = readRoi(body, 0, body.byteLength)
    if (roi.params.length > LIMITS.roiParams || length !== body.byteLength)
      throw new RangeError(`${roi.params.length} parameters in ${body.byteLength} bytes`)
    for (const p of roi.params) {
      const problem = structureProblem(p)
      if (problem)
        throw new RangeError(`parameter ${p.slice(0, 40)}: ${problem}`)
    }
    return roi
  } catch (e) {
    throw new ProtocolError(`malformed region of interest: ${e instanceof Error ? e.message : e}`)
  }
}

function text(body: Uint8Array, what: string): string {
  if (body.byteLength > MAX_CAPS_LENGTH)
    throw new ProtocolError(`${what} of ${body.byteLength} bytes is too long`)
  try {
    return utf8Decoder.decode(body)
  } catch {
    throw new ProtocolError(`${what} is not UTF-8`)
  }
}

/** Parses one payload into a message; throws ProtocolError on anything malformed. */
export function decodeMessage(payload: Uint8Array): Message {
  const parts = splitItems(payload)
  if (parts.length === 0)
    throw new ProtocolError('empty message')
  const first = parts[0]!
  if (first.id === Item.Hello) {
    if (first.body.byteLength < LAYOUT.hello.size)
      throw new ProtocolError('hello item too short')
    const h = readRecord(new DataView(first.body.buffer, first.body.byteOffset, first.body.byteLength), 0, 'hello')
    return { type: 'hello', major: h.major as number, minor: h.minor as number, features: h.features as number,
      software: text(first.body.subarray(LAYOUT.hello.size), 'software name') }
  }
  if (first.id === VendorItem.Eos)
    return { type: 'eos' }
  if (first.id === Item.Release) {
    const v = new DataView(first.body.buffer, first.body.byteOffset, first.body.byteLength)
    const head = LAYOUT.release.size
    const n = first.body.byteLength >= head ? v.getUint32(LAYOUT.release.offset.count!, true) : -1
    if (n < 0 || first.body.byteLength < head + 8 * n)
      throw new ProtocolError('release item too short')
    const ids = []
    for (let i = 0; i < n; i++)
      ids.push(v.getBigUint64(head + 8 * i, true))
    return { type: 'release', ids }
  }
  let caps: string | undefined
  let buffer: BufferDesc | undefined
  let bufferAt = 0
  let fdIds: number[] | undefined
  let forget: number[] | undefined
  let video: VideoMetaDesc | undefined
  let data: Uint8Array | undefined
  const rois: RoiDesc[] = []
  for (const p of parts) {
    switch (p.id) {
      case Item.Caps: {
        caps = text(p.body, 'caps')
        const problem = structureProblem(caps)
        if (problem)
          throw new ProtocolError(`caps ${caps.slice(0, 60)}: ${problem}`)
        break
      }
      case Item.Buffer:
        buffer = parseBuffer(p.body)
        bufferAt = p.body.byteOffset - payload.byteOffset
        break
      case Item.VideoMeta: video = parseVideoMeta(p.body); break
      case Item.RoiMeta:
        if (rois.length === MAX_ROIS)
          throw new ProtocolError(`more than ${MAX_ROIS} regions of interest`)
        rois.push(parseRoi(p.body))
        break
      case Item.Fds: fdIds = readU32s(p.body, 'fds', MAX_FDS); break
      case Item.Forget: forget = readU32s(p.body, 'forget', MAX_CACHED); break
      case Item.Data:
        if (data || p.body.byteLength > MAX_INLINE)
          throw new ProtocolError(`a second data item, or one of ${p.body.byteLength} bytes`)
        data = p.body.slice()
        break
      default: break // items of later minor versions and vendor metas we do not read yet
    }
  }
  if (!buffer)
    throw new ProtocolError(`message without a buffer (items ${parts.map(p => '0x' + p.id.toString(16)).join(', ')})`)
  const inline = buffer.memories.filter(m => m.kind === MemKind.Inline)
  const inlineBytes = inline.reduce((n, m) => n + m.size, 0n)
  if (inlineBytes !== BigInt(data?.byteLength ?? 0) || inline.some(m => m.offset !== 0n || m.maxsize !== m.size))
    throw new ProtocolError(`inline memories of ${inlineBytes} bytes with ${data?.byteLength ?? 0} bytes of data`)
  if (video)
    buffer.video = video
  if (rois.length)
    buffer.rois = rois
  if (data)
    buffer.inline = data
  const message: BufferMessage = { type: 'buffer', caps, buffer, bufferAt }
  if (fdIds)
    message.fdIds = fdIds
  if (forget)
    message.forget = forget
  return message
}
