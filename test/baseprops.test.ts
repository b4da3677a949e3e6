// What GstBaseSink and GstBaseSrc promise holds for our elements too: async=false, max-lateness (drops
// visible in QoS messages and stats), max-bitrate, sync on the sink; do-timestamp on the source. Arrival
// times are read at the receiver with do-timestamp=true: each buffer's pts is its running time of arrival.
import anyTest from 'ava'
const test = anyTest.serial
import { Checksum, DEBUG, Launch, parseChecksums, sleep, socketPath, stoppedStats, waitAll } from './helpers'

const QVGA = 'video/x-raw,format=I420,width=320,height=240'
const FRAME_BYTES = 320 * 240 * 3 / 2

function receiver(sock: string, extra = ''): Launch {
  return new Launch(`qtisocketsrc socket=${sock} ${extra} ! checksumsink`, { debug: DEBUG })
}

/** seconds between the first and the last arrival, from frame `from` on */
function span(frames: Checksum[], from = 0): number {
  return Number(frames[frames.length - 1]!.pts - frames[from]!.pts) / 1e9
}

async function run(sender: string, rxExtra = 'do-timestamp=true', senderArgs: string[] = []) {
  const sock = socketPath('baseprops')
  const rx = receiver(sock, rxExtra)
  await rx.waitFor(/listening on/)
  const [s, r] = await waitAll([new Launch(sender.replace('SOCK', sock), { debug: DEBUG, args: senderArgs }), rx], 60000)
  return { s, r, frames: parseChecksums(r.out) }
}

test('do-timestamp=true: buffers carry the receiver\'s running time of arrival instead of the sender\'s', async t => {
  // 60 frames of 1/30 s each, sent as fast as they are made
  const sender = `videotestsrc num-buffers=60 ! ${QVGA},framerate=30/1 ! qtisocketsink socket=SOCK wait-for-connection=true sync=false`
  const plain = await run(sender, '')
  const stamped = await run(sender)
  for (const { s, r } of [plain, stamped]) {
    t.is(s.code, 0, s.out)
    t.is(r.code, 0, r.out)
  }
  t.is(plain.frames.length, 60)
  t.is(stamped.frames.length, 60)
  // the sender's timestamps span 59/30 s; their arrival, a fraction of that
  t.is(plain.frames[59]!.pts - plain.frames[1]!.pts, 1_933_333_333n)
  t.true(span(stamped.frames) < 1, `arrivals span ${span(stamped.frames)} s`)
  t.true(stamped.frames.every((f, i) => i === 0 || f.pts >= stamped.frames[i - 1]!.pts), 'arrival times only grow')
})

test('sync: true paces the frames at their timestamps, false sends them as fast as they come', async t => {
  const synced = await run(`videotestsrc num-buffers=21 ! ${QVGA},framerate=20/1 ! qtisocketsink socket=SOCK wait-for-connection=true sync=true`)
  const unsynced = await run(`videotestsrc num-buffers=21 ! ${QVGA},framerate=20/1 ! qtisocketsink socket=SOCK wait-for-connection=true sync=false`)
  for (const { s, r } of [synced, unsynced]) {
    t.is(s.code, 0, s.out)
    t.is(r.code, 0, r.out)
  }
  // frame 0 is the preroll buffer: from frame 1 on, 19 intervals of 50 ms
  t.true(Math.abs(span(synced.frames, 1) - 0.95) < 0.05, `sync=true: ${span(synced.frames, 1)} s for 0.95 s of frames`)
  t.true(span(unsynced.frames, 1) < 0.5, `sync=false: ${span(unsynced.frames, 1)} s`)
})

test('max-bitrate: throughput is capped within 5%', async t => {
  // 100 frames/s of 115,200 bytes would be 92 Mbit/s; capped at 18.432 Mbit/s: 20 frames/s
  const cap = 18_432_000
  const { s, r, frames } = await run(`videotestsrc num-buffers=41 ! ${QVGA},framerate=100/1 ! ` +
    `qtisocketsink socket=SOCK wait-for-connection=true max-bitrate=${cap}`)
  t.is(s.code, 0, s.out)
  t.is(r.code, 0, r.out)
  t.is(frames.length, 41)
  const bits = (frames.length - 2) * FRAME_BYTES * 8
  const rate = bits / span(frames, 1)
  t.true(Math.abs(rate / cap - 1) < 0.05, `${(rate / 1e6).toFixed(3)} Mbit/s for a cap of ${cap / 1e6}`)
})

test('max-lateness: late buffers are dropped, posted as QoS and counted in stats; -1 renders them all', async t => {
  // each frame takes 60 ms to make for 33 ms of stream: later and later
  const pipeline = (lateness: string) => `videotestsrc num-buffers=40 ! ${QVGA},framerate=30/1 ! identity sleep-time=60000 ! ` +
    `qtisocketsink socket=SOCK wait-for-connection=true qos=true max-lateness=${lateness}`
  const strict = await run(pipeline('20000000'), '', ['-m'])
  const lax = await run(pipeline('-1'), '', ['-m'])
  for (const { s, r } of [strict, lax]) {
    t.is(s.code, 0, s.out)
    t.is(r.code, 0, r.out)
  }
  const st = stoppedStats(strict.s.out, 'qtisocketsink')
  t.true(st.late! > 10, `late drops: ${st.late}`)
  t.is(st.sent! + st.late!, 40, 'every frame was either sent or dropped as late')
  t.is(st.dropped, st.late, 'a receiver was there: the only drops are late ones')
  t.is(strict.frames.length, st.sent)
  t.regex(strict.s.out, /Got message #\d+ from element "qtisocketsink0" \(qos\)/)
  const lx = stoppedStats(lax.s.out, 'qtisocketsink')
  t.is(lx.late, 0)
  t.is(lax.frames.length, 40)
})

test('async=false: the sender reaches PLAYING with no receiver to preroll to; async=true waits', async t => {
  const sockA = socketPath('async-false')
  const sockB = socketPath('async-true')
  const sender = (sock: string, async: boolean) => new Launch(`videotestsrc num-buffers=30 ! ${QVGA},framerate=30/1 ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true async=${async}`, { debug: DEBUG })
  const noAsync = sender(sockA, false)
  const withAsync = sender(sockB, true)
  await noAsync.waitFor(/Setting pipeline to PLAYING/)
  await withAsync.waitFor(/Pipeline is PREROLLING/)
  await sleep(1000)
  t.notRegex(withAsync.out, /Setting pipeline to PLAYING/, 'async=true: prerolling until a receiver takes the first frame')
  t.notRegex(noAsync.out, /PREROLLING/)

  // receivers come: both senders deliver all of their frames
  const exits = await waitAll([noAsync, withAsync, receiver(sockA), receiver(sockB)], 60000)
  for (const e of exits)
    t.is(e.code, 0, e.out)
  t.is(parseChecksums(exits[2]!.out).length, 30)
  t.is(parseChecksums(exits[3]!.out).length, 30)
})
