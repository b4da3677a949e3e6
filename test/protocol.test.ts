// The wire codec, without sockets: what one side encodes, the other decodes; malformed input is
// refused with a ProtocolError, never anything else.
import test, { ExecutionContext } from 'ava'
import { BufferDesc, decodeDesc, encodeDesc, MemKind } from '../lib/protocol/desc'
import { decodeMessage, encodeBuffer, encodeEos, encodeHello, encodeRelease, PROTOCOL_MAJOR, ProtocolError,
  splitItems } from '../lib/protocol/wire'

const buffer: BufferDesc = {
  id: 7n, pts: 1_000_000_000n, dts: 0xffffffffffffffffn, duration: 33_333_333n, offset: 3n, offsetEnd: 4n,
  flags: 0x40, runningPts: 500_000_000n, runningDts: 0xffffffffffffffffn, baseMonotonic: 123_456_789_000n,
  memories: [{ index: 0, kind: MemKind.Fd, offset: 16n, size: 3_110_400n, maxsize: 3_110_416n }],
  video: { format: 2, width: 1920, height: 1080, nPlanes: 3, flags: 0, offsets: [0n, 2_073_600n, 2_592_000n, 0n],
    strides: [1920, 960, 960, 0] },
}

/** memories in a memfd and inline, and regions of interest with parameters */
const rich: BufferDesc = {
  ...buffer, id: 8n,
  memories: [{ index: 0, kind: MemKind.Fd, offset: 0n, size: 100n, maxsize: 4096n },
    { index: 0, kind: MemKind.Inline, offset: 0n, size: 5n, maxsize: 5n },
    { index: 0, kind: MemKind.Inline, offset: 0n, size: 0n, maxsize: 0n }],
  rois: [{ type: 'face', id: 1, parentId: -1, x: 10, y: 5, w: 30, h: 40,
    params: ['detection, label=(string)face, confidence=(double)0.93;', 'tracking, track-id=(uint)7;'] },
  { type: 'œil', id: 2, parentId: 1, x: 15, y: 12, w: 6, h: 4, params: [] }],
  inline: new Uint8Array([104, 101, 108, 108, 111]),
}

test('inline memories and regions of interest survive encode/decode, on the wire and in the helper\'s description', t => {
  t.deepEqual(decodeMessage(encodeBuffer(rich)), { type: 'buffer', caps: undefined, buffer: rich, bufferAt: 8 })
  t.deepEqual(decodeDesc(encodeDesc(rich, 1)), rich)
})

test('inline memories must account for the data item exactly', t => {
  const short = { ...rich, inline: new Uint8Array(4) }
  t.throws(() => decodeMessage(encodeBuffer(short)), { instanceOf: ProtocolError, message: /inline memories of 5 bytes with 4/ })
})

test('a buffer with caps and video meta survives encode/decode', t => {
  const m = decodeMessage(encodeBuffer(buffer, 'video/x-raw, format=(string)I420'))
  // the BUFFER body follows the CAPS item (8 + 32) and its own header (8)
  t.deepEqual(m, { type: 'buffer', caps: 'video/x-raw, format=(string)I420', buffer, bufferAt: 48 })
})

test('hello, eos and release decode to what was encoded', t => {
  const hello = decodeMessage(encodeHello())
  t.like(hello, { type: 'hello', major: PROTOCOL_MAJOR, software: 'qtisocket-ts' })
  t.deepEqual(decodeMessage(encodeEos()), { type: 'eos' })
  t.deepEqual(decodeMessage(encodeRelease([1n, 2n ** 63n])), { type: 'release', ids: [1n, 2n ** 63n] })
})

test('our items follow the vendor framing: the vendor EOS is 4 bytes, ours carry a length and are padded', t => {
  t.deepEqual([...encodeEos()], [0, 0, 0, 0])
  const items = splitItems(encodeBuffer(buffer, 'abc'))
  t.is(items[0]!.body.byteLength, 3)
  t.is(encodeBuffer(buffer, 'abc').byteLength % 4, 0)
})

test('every truncation of a valid message is refused with a ProtocolError', t => {
  for (const bytes of [encodeBuffer(buffer, 'video/x-raw'), encodeBuffer(rich, 'text/x-raw')])
  for (let n = 0; n < bytes.byteLength; n++) {
    if (n % 4 === 0 && n > 0) {
      // cut at an item boundary: still a valid prefix or an error, never something else
      try {
        decodeMessage(bytes.subarray(0, n))
      } catch (e) {
        t.true(e instanceof ProtocolError, String(e))
      }
      continue
    }
    t.throws(() => decodeMessage(bytes.subarray(0, n)), { instanceOf: ProtocolError }, `cut at ${n}`)
  }
})

/** a repeatable pseudo-random sequence in [0, 1) */
function random(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
}

/** decodes each input: it may succeed or throw a ProtocolError, nothing else */
function onlyProtocolErrors(t: ExecutionContext, inputs: Iterable<Uint8Array>): void {
  for (const bytes of inputs) {
    try {
      decodeMessage(bytes)
    } catch (e) {
      if (!(e instanceof ProtocolError))
        t.fail(`${e} for ${Buffer.from(bytes).toString('hex')}`)
    }
  }
  t.pass()
}

test('random bytes never throw anything but a ProtocolError', t => {
  const rand = random(42)
  onlyProtocolErrors(t, (function* () {
    for (let i = 0; i < 2000; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 200))
      for (let j = 0; j < bytes.length; j++)
        bytes[j] = rand() < 0.2 ? [0, 2, 3, 5, 0x54, 0x51][Math.floor(rand() * 6)]! : Math.floor(rand() * 256)
      yield bytes
    }
  })())
})

test('a valid message with random bytes changed never throws anything but a ProtocolError', t => {
  const rand = random(7)
  const valid = encodeBuffer(rich, 'text/x-raw')
  onlyProtocolErrors(t, (function* () {
    for (let i = 0; i < 5000; i++) {
      const bytes = valid.slice()
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--)
        bytes[Math.floor(rand() * bytes.length)] = rand() < 0.5 ? 0xff : Math.floor(rand() * 256)
      yield bytes
    }
  })())
})

test('a memory count beyond the limit is refused', t => {
  const many = { ...buffer, memories: Array.from({ length: 65 }, () => buffer.memories[0]!) }
  t.throws(() => decodeMessage(encodeBuffer(many)), { instanceOf: ProtocolError, message: /65 memories/ })
})
