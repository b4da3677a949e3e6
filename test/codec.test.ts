// The native data plane against TypeScript's codec: what the sink's native encoder
// (plugin/helper/encode.c) writes for a buffer, TypeScript's decoder (lib/protocol/wire.ts) reads back
// as that buffer, for thousands of random buffers (memories on fds and inline, cached or not, video
// metas, regions of interest with parameters, any timestamps and flags), without sockets.
import test from 'ava'
import { EncodeSpec, native } from '../lib/native'
import { MemKind } from '../lib/protocol/desc'
import { BufferMessage, decodeMessage, encodeCaps } from '../lib/protocol/wire'

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

function check(spec: EncodeSpec, encoded: { data: Uint8Array, nFds: number, maxsizes: number[] }): string | undefined {
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
  const msg = decodeMessage(out.data) as BufferMessage
  t.is(out.nFds, 1)
  t.deepEqual(msg.fdIds, [msg.buffer.memories[0]!.index])
  t.not(msg.buffer.memories[0]!.index, 0)
  t.is(msg.buffer.memories[1]!.kind, MemKind.Inline)
})
