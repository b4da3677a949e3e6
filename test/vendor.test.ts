// The vendor's wire (Qualcomm's qtisocketsink/qtisocketsrc, ../shared/VENDOR-WIRE.md), against a peer
// written from that spec (test/peers/vendor_sender.py): their sender to our receiver, with the
// gst-launch line their receiver needs (a capsfilter: no caps travel). Frames with padded strides and
// plane gaps (repacked by videoconvert, so the video meta must be right), tensors whose blocks bring
// their fds at different times (FD_COUNT below the block count), text; every buffer returned with
// their RETURN_BUFFER; end-of-stream ends the stream.
import test from 'ava'
import * as crypto from 'crypto'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { decodeVendor, encodeVendorBuffer, VendorBlock } from '../lib/protocol/vendor'
import { DEBUG, launch, Launch, openFds, parseChecksums, Peer, sleep, socketPath, stoppedStats } from './helpers'

interface Sent { frames: string[], returned: number, fdsSent: number }

async function vendorToUs(name: string, args: string[], downstream: string):
  Promise<{ sent: Sent, received: string[], out: string }> {
  const sock = socketPath(`vendor-${name}`)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! ${downstream} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const peer = new Peer('vendor_sender.py', [sock, ...args])
  const code = await peer.exited
  const r = await receiver.wait(30000)
  if (code !== 0 || r.code !== 0)
    throw new Error(`sender ${code}: ${peer.out}\nreceiver ${r.code}: ${r.out}`)
  const returned = peer.out.match(/^returned (\d+) of/m)
  const fds = peer.out.match(/^fds sent (\d+)$/m)
  return { sent: { frames: peer.lines('frame ').map(l => l.split(' ')[2]!), returned: Number(returned?.[1]),
    fdsSent: Number(fds?.[1]) }, received: parseChecksums(r.out).map(c => c.sha1), out: r.out }
}

test('their sender, NV12 with padded strides and plane gaps, pooled: identical pictures, each fd once, all returned', async t => {
  const { sent, received, out } = await vendorToUs('nv12', ['video', 'NV12', '320', '240', '30', '--as', 'I420'],
    'video/x-raw,format=NV12,width=320,height=240 ! videoconvert ! video/x-raw,format=I420')
  t.deepEqual(received, sent.frames)
  t.is(sent.frames.length, 30)
  t.is(sent.returned, 30, 'every buffer came back with RETURN_BUFFER')
  t.true(sent.fdsSent <= 4, `${sent.fdsSent} fds for 30 frames (a pool of 4)`)
  const st = stoppedStats(out, 'qtisocketsrc')
  t.like(st, { received: 30, returned: 30 })
  t.is(st['fds-received'], sent.fdsSent)
  t.regex(out, /speaks the vendor's wire: caps come from downstream/)
  // the fast path on their wire too: once their pool's fds are cached, no JS call per buffer
  t.true(st['fast-path']! >= 30 - sent.fdsSent - 2, `${st['fast-path']} of 30 on the fast path`)
})

test('their sender, I420 not pooled (every fd every time): identical pictures, all returned', async t => {
  const { sent, received } = await vendorToUs('i420', ['video', 'I420', '176', '144', '20', '--unpooled', '--as', 'NV12'],
    'video/x-raw,format=I420,width=176,height=144 ! videoconvert ! video/x-raw,format=NV12')
  t.deepEqual(received, sent.frames)
  t.is(sent.returned, 20)
  t.is(sent.fdsSent, 20)
})

test('their sender, memfds that cannot be sealed: copied on arrival (one warning, counted), identical pictures', async t => {
  const { sent, received, out } = await vendorToUs('unsealable', ['video', 'NV12', '64', '48', '10', '--unsealable',
    '--as', 'I420'], 'video/x-raw,format=NV12,width=64,height=48 ! videoconvert ! video/x-raw,format=I420')
  t.deepEqual(received, sent.frames)
  t.is(sent.returned, 10)
  t.is((out.match(/^WARNING: from element .*sends memory that cannot be sealed against shrinking: copying it/gm) ?? []).length, 1)
  t.is(stoppedStats(out, 'qtisocketsrc').copied, 10)
})

test('their sender, 3 tensors per buffer, fds cached block by block: identical bytes, all returned', async t => {
  const { sent, received, out } = await vendorToUs('tensors', ['tensors', '20'], 'neural-network/tensors')
  t.deepEqual(received, sent.frames)
  t.is(sent.returned, 20)
  t.true(sent.fdsSent < 20 * 3, `${sent.fdsSent} fds for 60 blocks`)
  t.notRegex(out, /WARNING/)
})

test('their sender, text: identical bytes (their receiver returns text buffers, ours needs not)', async t => {
  const { sent, received } = await vendorToUs('text', ['text', '20'], 'text/x-raw,format=utf8')
  t.deepEqual(received, sent.frames)
  t.is(sent.frames.length, 20)
})

// ---- our sender to their receiver (test/peers/vendor_receiver.py): it never greets ------------------

interface Received { frames: string[], layouts: string[], fdsReceived: number, misread: number, out: string }

async function usToVendor(name: string, sender: (sock: string) => Promise<{ code: number | null, out: string }>,
  args: string[] = []): Promise<{ got: Received, sent: { code: number | null, out: string } }> {
  const sock = socketPath(`to-vendor-${name}`)
  const peer = new Peer('vendor_receiver.py', [sock, ...args])
  await peer.waitFor('listening')
  const sent = await sender(sock)
  t_assertExit(await peer.exited, peer.out)
  const num = (re: RegExp) => Number(peer.out.match(re)?.[1])
  return { sent, got: { frames: peer.lines('frame ').map(l => l.split(' ')[2]!), layouts: peer.lines('layout '),
    fdsReceived: num(/^fds received (\d+)$/m), misread: num(/^misread (\d+)$/m), out: peer.out } }
}

function t_assertExit(code: number | null, out: string): void {
  if (code !== 0)
    throw new Error(`the vendor receiver exited with ${code}: ${out}`)
}

/** the visible rows of each plane of raw I420 or NV12 frames of that layout, per frame (as the vendor
 *  receiver peer computes them) */
function visible(raw: Buffer, format: string, w: number, h: number, offsets: number[], strides: number[],
  size: number): string[] {
  const [cw, ch] = [Math.ceil(w / 2), Math.ceil(h / 2)]
  const planes = format === 'NV12' ? [[w, h], [2 * cw, ch]] : [[w, h], [cw, ch], [cw, ch]]
  const out = []
  for (let f = 0; f + size <= raw.length; f += size) {
    const hash = crypto.createHash('sha1')
    planes.forEach(([rw, rows], p) => {
      for (let r = 0; r < rows!; r++)
        hash.update(raw.subarray(f + offsets[p]! + r * strides[p]!, f + offsets[p]! + r * strides[p]! + rw!))
    })
    out.push(hash.digest('hex'))
  }
  return out
}

for (const [format, width, height, offsets, strides, size] of [
  ['NV12', 320, 240, [0, 76800], [320, 320], 115200],
  // GStreamer's default layout for odd sizes: rows rounded up to 4 bytes, the luma plane to an even
  // number of rows
  ['I420', 321, 241, [0, 78408, 98252], [324, 164, 164], 118096],
] as const) {
  const layout = `layout ${format === 'NV12' ? 23 : 2} ${width}x${height} planes=${offsets.length} ` +
    `offsets=${offsets.join(',')} strides=${strides.join(',')} size=${size}`
  test(`our sender to their receiver (silent: their wire), ${format} ${width}x${height}: identical bytes, the layout ` +
    'in FRAME, each pool fd once, all returned, end-of-stream', async t => {
    const caps = `video/x-raw,format=${format},width=${width},height=${height}`
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-vendor-ref-'))
    await launch(`videotestsrc num-buffers=30 pattern=ball ! ${caps} ! filesink location=${dir}/ref.raw`)
    const reference = visible(fs.readFileSync(`${dir}/ref.raw`), format, width, height, [...offsets], [...strides], size)
    fs.rmSync(dir, { recursive: true })
    const { got, sent } = await usToVendor(format, sock => launch(`videotestsrc num-buffers=30 pattern=ball ! ${caps} ! ` +
      `qtisocketsink socket=${sock}`, { debug: DEBUG }))
    t.is(sent.code, 0, sent.out)
    // the visible image (padding between rows is whatever the pool buffer held before)
    t.deepEqual(got.out.split('\n').filter(l => l.startsWith('visible ')).map(l => l.split(' ')[1]), reference)
    t.deepEqual([...new Set(got.layouts)], [layout])
    t.regex(got.out, /^eos$/m)
    t.true(got.fdsReceived <= 4, `${got.fdsReceived} fds for 30 frames`)
    t.regex(sent.out, /did not greet: speaking the vendor's wire to it/)
    const st = stoppedStats(sent.out, 'qtisocketsink')
    t.like(st, { sent: 30, returned: 30, copied: 0 })
    // the fast path on their wire too: once their receiver has the pool's fds, no JS call per buffer
    t.true(st['fast-path']! >= 30 - got.fdsReceived - 2, `${st['fast-path']} of 30 on the fast path`)
  })
}

test('our sender to their receiver, text: each buffer inside the message (TEXT), identical', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-vendor-text-'))
  const input = path.join(dir, 'in.txt')
  const text = Array.from({ length: 12 }, (_, i) => `line ${i} of the text that crosses\n`).join('')
  fs.writeFileSync(input, text)
  const { got, sent } = await usToVendor('text', sock => launch(`filesrc location=${input} blocksize=40 ! ` +
    `text/x-raw,format=utf8 ! qtisocketsink socket=${sock}`, { debug: DEBUG }))
  t.is(sent.code, 0, sent.out)
  const chunks = []
  for (let at = 0; at < text.length; at += 40)
    chunks.push(crypto.createHash('sha1').update(text.slice(at, at + 40)).digest('hex'))
  t.deepEqual(got.frames, chunks)
  t.is(got.fdsReceived, 0)
  fs.rmSync(dir, { recursive: true })
})

test('our sender to their receiver, 3 tensors per buffer (TENSOR from the caps): identical bytes', async t => {
  const { got, sent } = await usToVendor('tensors', async sock => {
    const p = new Peer('tensor_sender.py', [sock, '12'])
    return { code: await p.exited, out: p.out }
  })
  t.is(sent.code, 0, sent.out)
  t.deepEqual(got.frames, sent.out.split('\n').filter(l => l.startsWith('sent ')).map(l => l.split(' ')[2]))
  t.is(got.misread, 0, 'every message brings no fd or one per block')
})

test('their receiver pausing (DISCONNECT): our sender releases what it held, warns, and ends normally', async t => {
  const sock = socketPath('to-vendor-disconnect')
  const peer = new Peer('vendor_receiver.py', [sock, '--disconnect-after', '5'])
  await peer.waitFor('listening')
  const s = await launch(`videotestsrc num-buffers=40 is-live=true ! video/x-raw,format=NV12,width=160,height=120,` +
    `framerate=60/1 ! qtisocketsink socket=${sock}`, { debug: DEBUG, timeoutMs: 30000 })
  t_assertExit(await peer.exited, peer.out)
  t.is(s.code, 0, s.out)
  t.regex(peer.out, /^sent disconnect$/m)
  t.regex(s.out, new RegExp(`The receiver on "${sock}" went away; released the \\d+ buffers it held`))
  const st = stoppedStats(s.out, 'qtisocketsink')
  t.true(st.sent! >= 5, `${st.sent} sent`)
  t.is(st['in-flight'], 0)
})

test('their sender, a region of interest per frame (VIDEO_ROI_META): a GstVideoRegionOfInterestMeta with its detection', async t => {
  const sock = socketPath('vendor-roi')
  const receiver = new Peer('roi_receiver.py', [sock, 'video/x-raw,format=NV12,width=64,height=48'])
  await receiver.waitFor('playing')
  await sleep(500)
  const sender = new Peer('vendor_sender.py', [sock, 'video', 'NV12', '64', '48', '3', '--roi'])
  t.is(await sender.exited, 0, sender.out)
  t.is(await receiver.exited, 0, receiver.out)
  t.deepEqual(receiver.lines('  roi'), [0, 1, 2].map(i =>
    `  roi face id=${i} parent=-1 box=1,2,3x4 ObjectDetection, confidence=(double)0.5;`))
})

test('the vendor codec: what encodeVendorBuffer writes, decodeVendor reads (frame, tensors, text, ROI)', t => {
  const frame: VendorBlock = { kind: 'frame', width: 321, height: 241, format: 2, nPlanes: 3, offsets: [0n, 78408n, 98252n, 0n],
    strides: [324, 164, 164, 0], size: 118096n, maxsize: 118096n }
  const roi = { type: 'face', id: 3, parentId: -1, x: 1, y: 2, w: 3, h: 4, params: ['ObjectDetection, confidence=(double)0.5;'] }
  const base = { pts: 5n, dts: 0xffffffffffffffffn, duration: 33n, pooled: true }
  const cases: Array<[VendorBlock[], typeof roi[], number | undefined]> = [
    [[frame], [roi], 1],
    [[{ kind: 'tensor', type: 2, dimensions: [1, 32, 32, 4], size: 4096n, maxsize: 4096n },
      { kind: 'tensor', type: 10, dimensions: [1, 1000], size: 4000n, maxsize: 4096n }], [], undefined],
    [[{ kind: 'text', bytes: new TextEncoder().encode('hello') }], [], undefined],
  ]
  for (const [blocks, rois, nFds] of cases) {
    const m = { ...base, bufIds: [7, 8].slice(0, blocks.length), nFds, blocks, rois }
    const back = decodeVendor(encodeVendorBuffer(m))
    t.like(back, { type: 'buffer', pts: 5n, duration: 33n, pooled: true, nFds })
    if (back.type === 'buffer') {
      t.deepEqual(back.blocks, m.blocks)
      t.deepEqual(back.rois, m.rois)
      t.deepEqual(back.bufIds.slice(0, blocks.length), m.bufIds)
    }
  }
  t.throws(() => decodeVendor(new Uint8Array([0, 0, 0, 0, 2, 0, 0, 0])), { message: /truncated|mixed/ })
})

test('thousands of frames each way with the vendor\'s peers: every buffer returned, open fds flat on our side', async t => {
  // their sender to our receiver: 3000 frames from a pool of 4
  const sockIn = socketPath('vendor-many-in')
  const receiver = new Launch(`qtisocketsrc socket=${sockIn} ! video/x-raw,format=NV12,width=64,height=48 ! fakesink`,
    { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = new Peer('vendor_sender.py', [sockIn, 'video', 'NV12', '64', '48', '3000'])
  await sender.waitFor('frame 500 ')
  const early = openFds(receiver.pid).length
  await sender.waitFor('frame 2500 ')
  const late = openFds(receiver.pid).length
  t.is(await sender.exited, 0, sender.out)
  const r = await receiver.wait(30000)
  t.is(r.code, 0, r.out)
  t.regex(sender.out, /^returned 3000 of 3000$/m)
  t.true(late <= early, `receiver fds: ${early} at frame 500, ${late} at frame 2500`)
  t.like(stoppedStats(r.out, 'qtisocketsrc'), { received: 3000, returned: 3000 })

  // our sender to their receiver: 3000 frames
  const sockOut = socketPath('vendor-many-out')
  const peer = new Peer('vendor_receiver.py', [sockOut])
  await peer.waitFor('listening')
  const s = await launch(`videotestsrc num-buffers=3000 ! video/x-raw,format=NV12,width=64,height=48 ! ` +
    `qtisocketsink socket=${sockOut} sync=false`, { debug: DEBUG, timeoutMs: 60000 })
  t_assertExit(await peer.exited, peer.out)
  t.is(s.code, 0, s.out)
  t.like(stoppedStats(s.out, 'qtisocketsink'), { sent: 3000, returned: 3000, 'in-flight': 0 })
  t.true(Number(peer.out.match(/^fds received (\d+)$/m)?.[1]) <= 18, 'the pool\'s fds, once each')
})

test('a hostile receiver of the vendor\'s wire (garbage, unknown and repeated buf_ids, bad counts, fds): our sender stays up and ends cleanly', async t => {
  const sock = socketPath('vendor-hostile-rx')
  const peer = new Peer('vendor_receiver.py', [sock, '--hostile', '5'])
  await peer.waitFor('listening')
  const s = await launch(`videotestsrc num-buffers=500 ! video/x-raw,format=NV12,width=64,height=48 ! ` +
    `qtisocketsink socket=${sock} sync=false`, { debug: DEBUG, timeoutMs: 60000 })
  t_assertExit(await peer.exited, peer.out)
  t.is(s.code, 0, s.out)
  const st = stoppedStats(s.out, 'qtisocketsink')
  t.is(st.sent, 500)
  t.is(st['in-flight'], 0)
  t.notRegex(s.out, /CRITICAL|SIGSEGV/)
})

test('our receiver stopped in the middle of their sender\'s stream: it stops cleanly, their sender sees it gone', async t => {
  const sock = socketPath('vendor-rx-stops')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! video/x-raw,format=NV12,width=64,height=48 ! ` +
    'identity sleep-time=5000 ! fakesink', { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = new Peer('vendor_sender.py', [sock, 'video', 'NV12', '64', '48', '100000'])
  await sender.waitFor('frame 200 ')
  receiver.kill('SIGINT')
  const r = await receiver.wait(15000)
  t.is(r.code, 0, r.out)
  t.is(await sender.exited, 0, sender.out)
  t.regex(sender.out, /^receiver gone$/m)
  t.notRegex(r.out, /CRITICAL/)
})

test('our sender to their receiver, text beyond their 1024-byte field: an error saying why, not a message they would misread', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-vendor-long-'))
  const input = path.join(dir, 'in.txt')
  fs.writeFileSync(input, 'x'.repeat(4000))
  const sock = socketPath('to-vendor-long-text')
  const peer = new Peer('vendor_receiver.py', [sock])
  await peer.waitFor('listening')
  const sent = await launch(`filesrc location=${input} blocksize=2000 ! text/x-raw,format=utf8 ! qtisocketsink socket=${sock}`,
    { debug: DEBUG, timeoutMs: 30000 })
  t.not(sent.code, 0, sent.out)
  t.regex(sent.out, new RegExp(`Cannot send this buffer to the vendor's qtisocketsrc on "${sock.replace(/[.]/g, '\\.')}": ` +
    'their text field holds 1024 bytes, this buffer has 2000'))
  t.is(peer.lines('frame ').length, 0, 'nothing of it reached their receiver')
  peer.kill()
  await peer.exited
  fs.rmSync(dir, { recursive: true })
})
