// Timing and caps that survive the hop: the receiver's running time of each buffer is the sender's, a new
// segment keeps its meaning, and dts, duration, offsets and flags arrive as they were sent.
import test from 'ava'
import { DEBUG, Launch, runPeer, socketPath, waitAll } from './helpers'

test('running time equals the sender\'s; segment base honoured; dts, duration, offsets and flags survive', t => {
  // both ends in one pipeline (one clock, one base time), driven by a Python GI program through the shim
  const r = runPeer('timing.py', [socketPath('timing')])
  t.is(r.status, 0, r.out)
  const lines = r.stdout.trim().split('\n')
  t.is(lines.length, 3, r.out)
  // the preroll frame left before the sender's running time sat on the clock: placed at the instant it was sent
  t.regex(lines[0]!, /^pts=\d+ dts=18446744073709551615 duration=1000000000 offset=0 offset_end=1 .* bytes=preroll$/)
  // pts 30 s in a segment of base 0, then pts 1 s in a segment of base 30 s: 30 s and 31 s of running time
  t.is(lines[1], 'pts=30000000000 dts=29000000000 duration=1000000000 offset=7 offset_end=8 flags=64 bytes=A')
  t.is(lines[2], 'pts=31000000000 dts=30500000000 duration=1000000000 offset=8 offset_end=9 flags=8192 bytes=B')
})

test('caps travel in-band on every change: mid-stream resolution and format changes reach the receiver with correct frames', t => {
  const r = runPeer('capschange.py', [socketPath('capschange')])
  t.is(r.status, 0, r.out)
  t.deepEqual(r.stdout.trim().split('\n'), [
    'GRAY8 64x48 3072 0', 'GRAY8 64x48 3072 1', 'GRAY8 160x120 19200 2', 'GRAY8 160x120 19200 3',
    'RGBA 32x24 3072 4', 'RGBA 32x24 3072 5', 'GRAY8 64x48 3072 6', 'GRAY8 64x48 3072 7',
  ])
})

test('the receiver\'s stats give the one-way latency of the buffers of a syncing sender (p50, p99)', async t => {
  const sock = socketPath('latency')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const [s, r] = await waitAll([new Launch('videotestsrc num-buffers=60 ! ' +
    `video/x-raw,width=320,height=240,framerate=60/1 ! qtisocketsink socket=${sock} wait-for-connection=true`), receiver])
  t.is(s.code, 0, s.out)
  t.is(r.code, 0, r.out)
  const m = r.out.match(/latency-p50=\(gint64\)(-?\d+), latency-p99=\(gint64\)(-?\d+), latency-samples=\(uint\)(\d+)/)
  t.truthy(m, r.out)
  const [p50, p99, n] = [Number(m![1]), Number(m![2]), Number(m![3])]
  t.is(n, 60, 'every buffer, the preroll one too (sent before the sender\'s running time was on the clock, it is placed at the instant it was sent)')
  t.true(p50 > 0 && p50 <= p99 && p99 < 50e6, `p50 ${p50} ns, p99 ${p99} ns`)
})
