// The native data plane against TypeScript's codec, without sockets: what the sink's native encoder
// (plugin/helper/encode.c) writes for a buffer, TypeScript's decoder (lib/protocol/wire.ts) reads back
// as that buffer, for thousands of random buffers (memories on fds and inline, cached or not, video
// metas, regions of interest with parameters, any timestamps and flags); and what TypeScript encodes,
// the receiver's native decoder (plugin/helper/decode.c) describes exactly as the element would,
// while of damaged messages it takes only those the element takes, with the same description. The same
// for the vendor's wire, one way: what the native encoder writes for their receiver (frames, tensors,
// text, ROI metas), the reader of their wire our receiver uses reads back as that buffer; the other way,
// the hostile tests check the native decoder of their wire against the element (QTISOCKET_NATIVE_CHECK).
// For upstream's unixfd wire, both ways (the end of this file).
import test from 'ava'
import { EncodeSpec, native } from '../lib/native'
import { BufferDesc, encodeDesc, MemKind } from '../lib/protocol/desc'
import { UNIXFD_COMMANDS } from '../lib/protocol/layout'
import { decodeVendor, VendorBuffer, VENDOR_MAX_TENSORS, VENDOR_TEXT_MAX } from '../lib/protocol/vendor'
import { decodeUnixfd, encodeCommand, encodeNewBuffer, encodeVideoMeta } from '../lib/protocol/unixfd'
import { BufferMessage, decodeMessage, encodeBuffer, encodeCaps, ProtocolError } from '../lib/protocol/wire'

/** a small deterministic generator (mulberry32) */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NONE = 0xffffffffffffffffn

function randomSpec(r: () => number): EncodeSpec {
  const int = (n: number) => Math.floor(r() * n)
  const u64 = () => r() < 0.2 ? NONE : BigInt(int(2 ** 31)) * BigInt(int(2 ** 20) + 1)
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256))
  const cached = r() < 0.5
  const spec: EncodeSpec = {
    id: BigInt(int(2 ** 40)), pts: u64(), dts: u64(), duration: u64(), offset: u64(), offsetEnd: u64(),
    flags: int(2 ** 16) << 4, baseMonotonic: u64(), cached,
    memories: Array.from({ length: int(7) }, () => ({ bytes: bytes(int(3) === 0 ? 0 : int(5000)), fd: r() < 0.6,
      offset: int(3) === 0 ? int(8192) : 0 })),
  }
  if (r() < 0.3)
    spec.capsItem = encodeCaps(`video/x-raw, format=(string)NV12, width=(int)${int(4000) + 1}, height=(int)${int(3000) + 1}`)
  if (cached && r() < 0.3)
    spec.forget = Array.from({ length: int(5) + 1 }, () => int(1000) + 1)
  if (r() < 0.4) {
    const nPlanes = int(4) + 1
    spec.video = { format: [2, 23, 25, 11][int(4)]!, width: int(4000) + 1, height: int(3000) + 1, nPlanes, flags: int(4),
      offsets: Array.from({ length: nPlanes }, () => int(2 ** 24)), strides: Array.from({ length: nPlanes }, () => int(8192)) }
  }
  if (r() < 0.4) {
    const words = ['face', 'eye', 'person', 'visage-é', 'car']
    spec.rois = Array.from({ length: int(4) }, (_, i) => ({ type: words[int(words.length)]!, id: int(1000) - 500, parentId: i - 1,
      x: int(4000), y: int(3000), w: int(500), h: int(500),
      params: Array.from({ length: int(3) }, (_, j) => `param${j}, rank=(int)${int(100)}, label=(string)${['face', 'eye', 'car'][int(3)]}`) }))
  }
  return spec
}

/** a damaged copy of a message, and how: 0 bits flipped, 1 cut short, 2 four bytes inserted */
function damage(r: () => number, message: Uint8Array): [Uint8Array, number] {
  const bad = Uint8Array.from(message)
  const what = Math.floor(r() * 3)
  if (what === 0) {
    for (let k = 0; k < 1 + Math.floor(r() * 3); k++)
      bad[Math.floor(r() * bad.byteLength)]! ^= 1 << Math.floor(r() * 8)
    return [bad, what]
  }
  if (what === 1)
    return [bad.subarray(0, Math.floor(r() * bad.byteLength)), what]
  const at = Math.floor(r() * bad.byteLength)
  return [Uint8Array.from([...bad.subarray(0, at), ...Array.from({ length: 4 }, () => Math.floor(r() * 256)), ...bad.subarray(at)]), what]
}

function check(spec: EncodeSpec, encoded: { data: Uint8Array | null, nFds: number, maxsizes: number[] }): string | undefined {
  if (!encoded.data)
    return 'nothing encoded'
  const msg = decodeMessage(encoded.data) as BufferMessage
  if (msg.type !== 'buffer')
    return `decoded a ${(msg as { type: string }).type}`
  const b = msg.buffer
  const want = { id: spec.id, pts: spec.pts, dts: spec.dts, duration: spec.duration, offset: spec.offset, offsetEnd: spec.offsetEnd,
    flags: spec.flags, runningPts: spec.pts, runningDts: spec.dts, baseMonotonic: spec.baseMonotonic }
  for (const [k, v] of Object.entries(want)) {
    if ((b as unknown as Record<string, unknown>)[k] !== v)
      return `${k}: ${(b as unknown as Record<string, unknown>)[k]} instead of ${v}`
  }
  if (spec.capsItem && msg.caps === undefined)
    return 'no caps'
  if (b.memories.length !== spec.memories.length)
    return `${b.memories.length} memories instead of ${spec.memories.length}`
  const inline: number[] = []
  let fdIndex = 0
  for (const [i, m] of spec.memories.entries()) {
    const d = b.memories[i]!
    if (d.size !== BigInt(m.bytes.byteLength))
      return `memory ${i}: size ${d.size} instead of ${m.bytes.byteLength}`
    if (!m.fd) {
      if (d.kind !== MemKind.Inline || d.offset !== 0n || d.maxsize !== d.size)
        return `memory ${i}: not inline as it should`
      inline.push(...m.bytes)
      continue
    }
    if (d.kind !== MemKind.Fd || d.offset !== BigInt(m.offset ?? 0) || d.maxsize !== BigInt(encoded.maxsizes[i]!))
      return `memory ${i}: kind ${d.kind}, offset ${d.offset}, maxsize ${d.maxsize}`
    if (!spec.cached && d.index !== fdIndex++)
      return `memory ${i}: fd index ${d.index}`
  }
  const fdMemories = spec.memories.filter(m => m.fd).length
  if (encoded.nFds !== fdMemories)
    return `${encoded.nFds} fds for ${fdMemories} fd memories`
  if (spec.cached && (msg.fdIds ?? []).join() !== b.memories.filter(m => m.kind !== MemKind.Inline).map(m => m.index).join())
    return `FDS ${msg.fdIds} for memories named ${b.memories.map(m => m.index)}`
  if ((msg.forget ?? []).join() !== (spec.cached ? spec.forget ?? [] : []).join())
    return `FORGET ${msg.forget}`
  if (Buffer.compare(Buffer.from(b.inline ?? []), Buffer.from(inline)) !== 0)
    return 'inline bytes differ'
  if (!!spec.video !== !!b.video)
    return 'video meta'
  if (spec.video && b.video) {
    const v = b.video
    if (v.format !== spec.video.format || v.width !== spec.video.width || v.height !== spec.video.height ||
      v.nPlanes !== spec.video.nPlanes || v.flags !== spec.video.flags ||
      spec.video.offsets.some((o, p) => v.offsets[p] !== BigInt(o)) || spec.video.strides.some((s, p) => v.strides[p] !== s))
      return `video meta ${JSON.stringify(v, (_, x) => typeof x === 'bigint' ? String(x) : x)}`
  }
  const rois = spec.rois ?? []
  if ((b.rois ?? []).length !== rois.length)
    return `${b.rois?.length ?? 0} regions of interest instead of ${rois.length}`
  for (const [i, r] of rois.entries()) {
    const d = b.rois![i]!
    if (d.type !== r.type || d.id !== r.id || d.parentId !== r.parentId || d.x !== r.x || d.y !== r.y || d.w !== r.w || d.h !== r.h)
      return `region ${i}: ${JSON.stringify(d)}`
    if (d.params.length !== r.params.length || d.params.some((p, j) => p.replace(/;$/, '') !== r.params[j]))
      return `region ${i} parameters: ${JSON.stringify(d.params)} for ${JSON.stringify(r.params)}`
  }
  return undefined
}

test('what the native encoder writes, TypeScript reads back: 2000 random buffers', t => {
  const r = random(20261202)
  let checked = 0
  for (let i = 0; i < 2000; i++) {
    const spec = randomSpec(r)
    const problem = check(spec, native().encodeForTest(spec))
    if (problem) {
      t.fail(`buffer ${i}: ${problem}\n${JSON.stringify(spec, (_, x) => typeof x === 'bigint' ? String(x) : x instanceof Uint8Array ? `${x.byteLength} bytes` : x)}`)
      return
    }
    checked++
  }
  t.is(checked, 2000)
})

test('the fd cache: a memory on a memfd names its id, which the FDS item gives the fd that goes along; inline memory names none', t => {
  const spec: EncodeSpec = { id: 1n, pts: 0n, dts: NONE, duration: NONE, offset: NONE, offsetEnd: NONE, flags: 0,
    baseMonotonic: NONE, cached: true, memories: [{ bytes: new Uint8Array(10), fd: true }, { bytes: new Uint8Array(5), fd: false }] }
  const out = native().encodeForTest(spec)
  const msg = decodeMessage(out.data!) as BufferMessage
  t.is(out.nFds, 1)
  t.deepEqual(msg.fdIds, [msg.buffer.memories[0]!.index])
  t.not(msg.buffer.memories[0]!.index, 0)
  t.is(msg.buffer.memories[1]!.kind, MemKind.Inline)
})

/** the receiver's answer to a payload, as its element gives it (qtisocketsrc.ts buffer()): the
 *  description, or undefined for what it does not build silently (malformed, new caps, no FDS match) */
function elementAnswer(payload: Uint8Array, nFds: number, cached: boolean, caps: string): Uint8Array | undefined {
  let msg
  try {
    msg = decodeMessage(payload)
  } catch {
    return undefined
  }
  if (msg.type !== 'buffer' || (msg.caps !== undefined && msg.caps !== caps))
    return undefined
  const b = msg.buffer
  if (cached) {
    if ((msg.fdIds ?? []).length !== nFds)
      return undefined
    b.cache = { ids: msg.fdIds ?? [], forget: msg.forget ?? [] }
  }
  return encodeDesc(b, nFds)
}

function randomMessage(r: () => number, caps: string): { payload: Uint8Array, nFds: number, cached: boolean } {
  const int = (n: number) => Math.floor(r() * n)
  const cached = r() < 0.5
  const memories = Array.from({ length: int(6) }, () => {
    const kind = [MemKind.Fd, MemKind.DmaBuf, MemKind.Inline][int(3)]!
    const size = BigInt(int(3000))
    return kind === MemKind.Inline ? { index: 0, kind, offset: 0n, size, maxsize: size }
      : { index: cached ? int(50) + 1 : 0, kind, offset: BigInt(int(100)), size, maxsize: size + BigInt(int(200)) + 100n }
  })
  let fdIndex = 0
  for (const m of memories)
    if (m.kind !== MemKind.Inline && !cached)
      m.index = fdIndex++
  const inlineLength = memories.filter(m => m.kind === MemKind.Inline).reduce((n, m) => n + Number(m.size), 0)
  const b: BufferDesc = { id: BigInt(int(2 ** 30)), pts: BigInt(int(2 ** 40)), dts: NONE, duration: BigInt(int(2 ** 30)),
    offset: NONE, offsetEnd: NONE, flags: int(2 ** 16), runningPts: BigInt(int(2 ** 40)), runningDts: NONE,
    baseMonotonic: BigInt(int(2 ** 50)), memories }
  if (inlineLength)
    b.inline = Uint8Array.from({ length: inlineLength }, () => int(256))
  if (r() < 0.4)
    b.video = { format: 23, width: int(2000) + 1, height: int(2000) + 1, nPlanes: int(4) + 1, flags: int(8),
      offsets: [0n, BigInt(int(2 ** 20)), 0n, 0n], strides: [int(4096), int(4096), 0, 0] }
  if (r() < 0.4)
    b.rois = Array.from({ length: int(3) + 1 }, (_, i) => ({ type: ['face', 'eye', 'visage-é'][int(3)]!, id: i, parentId: i - 1,
      x: int(100), y: int(100), w: int(100), h: int(100), params: r() < 0.5 ? [`detection, rank=(int)${int(9)}`] : [] }))
  const fdIds = cached ? memories.filter(m => m.kind !== MemKind.Inline && r() < 0.5).map(m => m.index) : []
  const forget = cached && r() < 0.3 ? [int(100) + 1, int(100) + 1] : []
  const payload = encodeBuffer(b, r() < 0.3 ? caps : undefined, cached ? { fdIds, forget } : undefined)
  return { payload, nFds: cached ? fdIds.length : fdIndex, cached }
}

test('what TypeScript encodes, the native decoder reads as the element does: 2000 valid messages taken, 20000 damaged ones taken only with the element\'s very answer', t => {
  const r = random(7)
  const caps = 'video/x-raw, format=(string)NV12, width=(int)320, height=(int)240'
  const capsBody = new TextEncoder().encode(caps)
  let taken = 0
  let agreed = 0
  for (let i = 0; i < 2000; i++) {
    const { payload, nFds, cached } = randomMessage(r, caps)
    const want = elementAnswer(payload, nFds, cached, caps)
    const got = native().decodeForTest(payload, nFds, cached, capsBody)
    t.truthy(want, `message ${i}: the element refuses a valid message`)
    t.deepEqual(got && Buffer.from(got), want && Buffer.from(want), `message ${i}`)
    taken++
    // and damaged: bits flipped, cut short, bytes inserted
    for (let j = 0; j < 10; j++) {
      const [damaged, what] = damage(r, payload)
      const native2 = native().decodeForTest(damaged, nFds, cached, capsBody)
      if (native2) {
        const element = elementAnswer(damaged, nFds, cached, caps)
        if (!element || Buffer.compare(Buffer.from(native2), Buffer.from(element)) !== 0) {
          t.fail(`message ${i}, damage ${j} (${what}): the native decoder took what the element ${element ? 'describes otherwise' : 'refuses'}`)
          return
        }
        agreed++
      }
    }
  }
  t.is(taken, 2000)
  t.log(`${agreed} damaged messages were still valid, and described alike`)
})

// ---- the vendor's wire: what the native encoder writes for their receiver, TypeScript's reader of
// their wire (lib/protocol/vendor.ts, the one our receiver uses) reads back as that buffer ----------

const MEDIA = { video: 1, tensors: 2, text: 3 } as const

/** a random buffer for the vendor's encoder, and whether their wire can carry it (else the native
 *  encoder leaves it to the element, which says why) */
function randomVendorSpec(r: () => number): { spec: EncodeSpec, carries: boolean } {
  const int = (n: number) => Math.floor(r() * n)
  const u64 = () => r() < 0.2 ? NONE : BigInt(int(2 ** 31)) * BigInt(int(2 ** 20) + 1)
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256))
  const spec: EncodeSpec = { id: 0n, pts: u64(), dts: u64(), duration: u64(), offset: NONE, offsetEnd: NONE, flags: 0,
    baseMonotonic: 0n, cached: false, memories: [] }
  const odd = r() < 0.15 // a buffer their wire cannot carry
  const kind = (['video', 'tensors', 'text'] as const)[int(3)]!
  if (kind === 'text') {
    spec.memories = Array.from({ length: int(3) + 1 }, () => ({ bytes: bytes(int(odd ? 1200 : 340)), fd: false }))
    if (odd && r() < 0.5)
      spec.memories.push({ bytes: bytes(16), fd: true })
    spec.vendor = { media: MEDIA.text }
    const total = spec.memories.reduce((n, m) => n + m.bytes.byteLength, 0)
    return { spec, carries: total <= VENDOR_TEXT_MAX && spec.memories.every(m => !m.fd) }
  }
  if (kind === 'video') {
    // widths by 4, even heights: the caps' NV12 layout is then w x h, then the chroma plane, stride w
    const [w, h] = [4 * (int(64) + 1), 2 * (int(64) + 1)]
    spec.memories = Array.from({ length: odd ? 2 : 1 }, () => ({ bytes: bytes(int(20000) + 1), fd: true, offset: int(3) === 0 ? int(4096) : 0 }))
    spec.vendor = { media: MEDIA.video, caps: `video/x-raw, format=(string)NV12, width=(int)${w}, height=(int)${h}, framerate=(fraction)30/1` }
    if (r() < 0.5) {
      const nPlanes = int(4) + 1
      spec.video = { format: [2, 23, 25, 11][int(4)]!, width: int(4000) + 1, height: int(3000) + 1, nPlanes, flags: int(4),
        offsets: Array.from({ length: nPlanes }, () => int(2 ** 24)), strides: Array.from({ length: nPlanes }, () => int(8192)) }
    }
    const words = ['face', 'person', 'a-label-longer-than-their-31-byte-field', 'car']
    spec.rois = Array.from({ length: int(3) }, (_, i) => ({ type: words[int(words.length)]!, id: int(1000) - 500, parentId: i - 1,
      x: int(4000), y: int(3000), w: int(500), h: int(500),
      params: [r() < 0.7 && `ObjectDetection, confidence=(int)${int(100)}, label=(string)face`,
        r() < 0.5 && `xtraparams, rank=(int)${int(100)}, note=(string)${'x'.repeat(int(400))}`,
        r() < 0.3 && 'other, a=(int)1'].filter((p): p is string => !!p) }))
    return { spec, carries: !odd }
  }
  const n = int(VENDOR_MAX_TENSORS) + 1
  spec.memories = Array.from({ length: n }, () => ({ bytes: bytes(int(4000) + 1), fd: true, offset: int(3) === 0 ? int(512) : 0 }))
  spec.vendor = { media: MEDIA.tensors, tensorType: int(10) + 1,
    dims: Array.from({ length: odd ? n + 1 : n }, () => Array.from({ length: int(8) + 1 }, () => int(2000) + 1)) }
  return { spec, carries: !odd }
}

function checkVendor(spec: EncodeSpec, encoded: ReturnType<ReturnType<typeof native>['encodeForTest']>): string | undefined {
  const m = decodeVendor(encoded.data!)
  if (m.type !== 'buffer')
    return `decoded a ${m.type}`
  const b: VendorBuffer = m
  for (const k of ['pts', 'dts', 'duration'] as const) {
    if (b[k] !== spec[k])
      return `${k}: ${b[k]} instead of ${spec[k]}`
  }
  // not from a pool: each fd memory names its own fd, and every fd goes along
  const fdMems = spec.memories.filter(x => x.fd).length
  if (b.pooled || (b.nFds ?? 0) !== fdMems || encoded.fds.length !== fdMems)
    return `pooled ${b.pooled}, FD_COUNT ${b.nFds}, ${encoded.fds.length} fds for ${fdMems} fd memories`
  if (b.bufIds.slice(0, spec.memories.length).join() !== encoded.bufIds.join() ||
    spec.memories.some((x, i) => x.fd ? encoded.bufIds[i] !== encoded.fds[spec.memories.slice(0, i).filter(y => y.fd).length] : encoded.bufIds[i] !== -1))
    return `buf_ids ${b.bufIds} (encoder ${encoded.bufIds}, fds ${encoded.fds})`
  const v = spec.vendor!
  if (v.media === MEDIA.text) {
    const text = Buffer.concat(spec.memories.map(x => x.bytes))
    const block = b.blocks[0]
    if (b.blocks.length !== 1 || block?.kind !== 'text' || Buffer.compare(Buffer.from(block.bytes), text) !== 0)
      return 'text differs'
    return undefined
  }
  if (v.media === MEDIA.tensors) {
    if (b.blocks.length !== spec.memories.length)
      return `${b.blocks.length} tensors for ${spec.memories.length}`
    for (const [i, block] of b.blocks.entries()) {
      const mem = spec.memories[i]!
      const end = BigInt((mem.offset ?? 0) + mem.bytes.byteLength)
      if (block.kind !== 'tensor' || block.type !== v.tensorType || block.dimensions.join() !== v.dims![i]!.join() ||
        block.size !== end || block.maxsize !== BigInt(encoded.maxsizes[i]!))
        return `tensor ${i}: ${JSON.stringify(block, (_, x) => typeof x === 'bigint' ? String(x) : x)}`
    }
    return undefined
  }
  const block = b.blocks[0]
  const mem = spec.memories[0]!
  const off = mem.offset ?? 0
  if (b.blocks.length !== 1 || block?.kind !== 'frame')
    return `${b.blocks.length} blocks for a frame`
  // their receiver maps the fd from byte 0: the memory's offset is in the plane offsets and the size
  const caps = /width=\(int\)(\d+), height=\(int\)(\d+)/.exec(v.caps!)!
  const [w, h] = [Number(caps[1]), Number(caps[2])]
  const layout = spec.video ?? { format: 23, width: w, height: h, nPlanes: 2, offsets: [0, w * h], strides: [w, w] }
  if (block.format !== layout.format || block.width !== layout.width || block.height !== layout.height ||
    block.nPlanes !== layout.nPlanes || layout.offsets.some((o, p) => block.offsets[p] !== BigInt(o + off)) ||
    layout.strides.some((st, p) => block.strides[p] !== st) || block.size !== BigInt(off + mem.bytes.byteLength) ||
    block.maxsize !== BigInt(encoded.maxsizes[0]!))
    return `frame ${JSON.stringify(block, (_, x) => typeof x === 'bigint' ? String(x) : x)}`
  const rois = spec.rois ?? []
  if (b.rois.length !== rois.length)
    return `${b.rois.length} regions of interest instead of ${rois.length}`
  for (const [i, r] of rois.entries()) {
    const d = b.rois[i]!
    // their label field holds 31 bytes; their two parameter fields 255 each, for the two structures they know
    const want = ['ObjectDetection', 'xtraparams'].map(name => r.params.find(p => p.startsWith(name)))
      .filter((p): p is string => !!p).map(p => p.slice(0, 255))
    if (d.type !== r.type.slice(0, 31) || d.id !== r.id || d.parentId !== r.parentId || d.x !== r.x || d.y !== r.y ||
      d.w !== r.w || d.h !== r.h)
      return `region ${i}: ${JSON.stringify(d)}`
    if (d.params.length !== want.length || d.params.some((p, j) => p.replace(/;$/, '') !== want[j]!.replace(/;$/, '')))
      return `region ${i} parameters: ${JSON.stringify(d.params)} for ${JSON.stringify(want)}`
  }
  return undefined
}

test('what the native encoder writes for the vendor\'s receiver, TypeScript reads back: 2000 random frames, tensors and texts', t => {
  const r = random(0xfeed)
  const counts = { carried: 0, refused: 0 }
  for (let i = 0; i < 2000; i++) {
    const { spec, carries } = randomVendorSpec(r)
    const encoded = native().encodeForTest(spec)
    if (!carries) {
      counts.refused++
      if (encoded.data !== null)
        return t.fail(`buffer ${i}: encoded what their wire cannot carry (${JSON.stringify(spec.vendor)})`)
      continue
    }
    counts.carried++
    if (encoded.data === null)
      return t.fail(`buffer ${i}: not encoded (${JSON.stringify(spec.vendor)})`)
    const problem = checkVendor(spec, encoded)
    if (problem)
      return t.fail(`buffer ${i} (${JSON.stringify(spec.vendor)}): ${problem}`)
  }
  t.true(counts.carried > 1500 && counts.refused > 100, JSON.stringify(counts))
})

// ---- upstream GStreamer's unixfd wire: what the native encoder writes for their receiver, TypeScript's
// reader of their wire (lib/protocol/unixfd.ts, the one our receiver uses) reads back; what their sink
// writes (random NEW_BUFFER commands with video metas and metas we skip), the native decoder describes
// exactly as the element does, and of damaged commands it takes only those the element takes ---------

test('what the native encoder writes for upstream\'s unixfdsrc, TypeScript reads back: 1000 random buffers, timestamps as instants on CLOCK_MONOTONIC', t => {
  const r = random(16)
  const int = (n: number) => Math.floor(r() * n)
  for (let i = 0; i < 1000; i++) {
    const spec = randomSpec(r)
    spec.unixfd = true
    spec.rois = undefined
    spec.capsItem = undefined
    spec.latency = r() < 0.3 ? NONE : BigInt(int(1e8))
    if (spec.baseMonotonic === NONE)
      spec.baseMonotonic = BigInt(int(2 ** 40))
    const allFd = spec.memories.every(m => m.fd)
    const encoded = native().encodeForTest(spec)
    if (!allFd) {
      t.is(encoded.data, null, `buffer ${i}: a memory not on an fd cannot go on their wire`)
      continue
    }
    if (!encoded.data)
      return t.fail(`buffer ${i}: not encoded`)
    // the payload: the framing (qs_stream_send) puts the header before it
    const msg = decodeUnixfd(encodeCommand(UNIXFD_COMMANDS.newBuffer, encoded.data), encoded.nFds)
    if (msg.type !== 'buffer')
      return t.fail(`buffer ${i}: read as ${msg.type}`)
    const b = msg.buffer
    const instant = (ts: bigint) => ts === NONE ? NONE : ts + spec.baseMonotonic + (spec.latency === NONE ? 0n : spec.latency!)
    const problem = b.id !== spec.id ? 'id' : b.pts !== instant(spec.pts) ? 'pts' : b.dts !== instant(spec.dts) ? 'dts'
      : b.duration !== spec.duration ? 'duration' : b.offset !== spec.offset || b.offsetEnd !== spec.offsetEnd ? 'offsets'
        : b.flags !== spec.flags ? 'flags' : b.memories.length !== spec.memories.length ? 'memories'
          : encoded.nFds !== spec.memories.length ? 'one fd per memory'
            : b.memories.some((m, j) => m.size !== BigInt(spec.memories[j]!.bytes.byteLength) ||
              m.offset !== BigInt(spec.memories[j]!.offset ?? 0) || m.kind !== MemKind.Fd) ? 'memory spans'
              : (spec.video === undefined) !== (b.video === undefined) ? 'video meta'
                : spec.video && (b.video!.format !== spec.video.format || b.video!.width !== spec.video.width ||
                  b.video!.nPlanes !== spec.video.nPlanes || b.video!.flags !== spec.video.flags ||
                  spec.video.offsets.some((o, j) => BigInt(o) !== b.video!.offsets[j]) ||
                  spec.video.strides.some((s, j) => s !== b.video!.strides[j])) ? 'video meta fields' : undefined
    if (problem)
      return t.fail(`buffer ${i}: ${problem} differ`)
  }
  t.pass()
})

/** a NEW_BUFFER command as their sink writes it, at random: memories, a video meta or not, metas we skip */
function randomUnixfd(r: () => number): { command: Uint8Array, nFds: number } {
  const int = (n: number) => Math.floor(r() * n)
  const u64 = () => r() < 0.2 ? NONE : BigInt(int(2 ** 31)) * BigInt(int(2 ** 20) + 1)
  const nMem = int(5)
  const metas: Uint8Array[] = []
  for (let k = 0; k < int(4); k++) {
    if (r() < 0.5) {
      const nPlanes = int(4) + 1
      metas.push(encodeVideoMeta({ format: [2, 23, 25, 11][int(4)]!, width: int(4000) + 1, height: int(3000) + 1, nPlanes,
        flags: int(4), offsets: Array.from({ length: nPlanes }, () => BigInt(int(2 ** 24))),
        strides: Array.from({ length: nPlanes }, () => int(8192)) }))
    } else {
      // a meta we do not carry (GstReferenceTimestampMeta, a custom one): skipped
      const name = Buffer.from(['GstReferenceTimestampMeta', 'MyCustomMeta', 'GstAudioMeta'][int(3)]!)
      const body = Uint8Array.from({ length: int(40) }, () => int(256))
      const m = new Uint8Array(8 + name.byteLength + 2 + body.byteLength)
      const v = new DataView(m.buffer)
      v.setUint32(0, m.byteLength, true)
      v.setUint32(4, name.byteLength, true)
      m.set(name, 8)
      m.set(body, 10 + name.byteLength)
      metas.push(m)
    }
  }
  const command = encodeNewBuffer({ id: BigInt(int(2 ** 40)), pts: u64(), dts: u64(), duration: u64(), offset: u64(),
    offsetEnd: u64(), flags: int(2 ** 16) << 4, type: int(2),
    memories: Array.from({ length: nMem }, () => ({ size: BigInt(int(2 ** 22)), offset: BigInt(int(2 ** 16)) })), metas })
  return { command, nFds: r() < 0.95 ? nMem : nMem + 1 }
}

function unixfdAnswer(command: Uint8Array, nFds: number): Uint8Array | null {
  try {
    const msg = decodeUnixfd(command, nFds)
    return msg.type === 'buffer' ? encodeDesc(msg.buffer, nFds) : null
  } catch (e) {
    if (e instanceof ProtocolError)
      return null
    throw e
  }
}

test('what upstream\'s unixfdsink writes, the native decoder reads as the element does: 2000 commands, 20000 damaged ones taken only with the element\'s very answer', t => {
  const r = random(61)
  let agreed = 0
  for (let i = 0; i < 2000; i++) {
    const { command, nFds } = randomUnixfd(r)
    const want = unixfdAnswer(command, nFds)
    const got = native().decodeUnixfdForTest(command, nFds)
    t.deepEqual(got && Buffer.from(got), want && Buffer.from(want), `command ${i}`)
    for (let j = 0; j < 10; j++) {
      const [damaged, what] = damage(r, command)
      const native2 = native().decodeUnixfdForTest(damaged, nFds)
      const element = unixfdAnswer(damaged, nFds)
      if ((native2 === null) !== (element === null) ||
          (native2 && Buffer.compare(Buffer.from(native2), Buffer.from(element!)) !== 0)) {
        t.fail(`command ${i}, damage ${j} (${what}): the native decoder ${native2 ? 'took' : 'refused'} what the element ` +
          `${element ? 'takes' : 'refuses'}${native2 && element ? ', describing it otherwise' : ''}`)
        return
      }
      if (native2)
        agreed++
    }
  }
  t.log(`${agreed} damaged commands were still valid, and described alike`)
})
