// The vendor's wire (Qualcomm's qtisocketsink/qtisocketsrc, ../shared/VENDOR-WIRE.md), against a peer
// written from that spec (test/peers/vendor_sender.py): their sender to our receiver, with the
// gst-launch line their receiver needs (a capsfilter: no caps travel). Frames with padded strides and
// plane gaps (repacked by videoconvert, so the video meta must be right), tensors whose blocks bring
// their fds at different times (FD_COUNT below the block count), text; every buffer returned with
// their RETURN_BUFFER; end-of-stream ends the stream.
import test from 'ava'
import { DEBUG, Launch, Peer, parseChecksums, socketPath, stoppedStats } from './helpers'

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
})

test('their sender, I420 not pooled (every fd every time): identical pictures, all returned', async t => {
  const { sent, received } = await vendorToUs('i420', ['video', 'I420', '176', '144', '20', '--unpooled', '--as', 'NV12'],
    'video/x-raw,format=I420,width=176,height=144 ! videoconvert ! video/x-raw,format=NV12')
  t.deepEqual(received, sent.frames)
  t.is(sent.returned, 20)
  t.is(sent.fdsSent, 20)
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
