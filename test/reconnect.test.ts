// Reconnects: a receiver that restarts mid-stream is found again by the running sender, which carries on
// with the next frames; a sender that restarts (new caps, new segment) is accepted by the running
// receiver. And the source's `timeout` wake-up: a message every `timeout` ms of silence, none while
// frames flow.
import test from 'ava'
import { Checksum, DEBUG, launch, Launch, parseChecksums, sleep, socketPath, stoppedStats, waitAll } from './helpers'

const SMALL = 'video/x-raw,format=I420,width=320,height=240,framerate=30/1'
const LARGE = 'video/x-raw,format=I420,width=640,height=480,framerate=30/1'

async function reference(caps: string, frames: number): Promise<Checksum[]> {
  const r = await launch(`videotestsrc num-buffers=${frames} pattern=ball ! ${caps} ! checksumsink`)
  return parseChecksums(r.out)
}

/** where each received frame sits in the reference stream (-1 if it is not one of its frames) */
function indices(received: Checksum[], ref: Checksum[]): number[] {
  const sha1s = ref.map(c => c.sha1)
  return received.map(c => sha1s.indexOf(c.sha1))
}

function consecutive(xs: number[]): boolean {
  return xs.every((x, i) => i === 0 || x === xs[i - 1]! + 1)
}

test('a receiver that restarts mid-stream is reconnected to, and the sender carries on with the next frames', async t => {
  const sock = socketPath('rx-restart')
  const ref = await reference(SMALL, 900)
  const first = new Launch(`qtisocketsrc socket=${sock} num-buffers=20 ! checksumsink`, { debug: DEBUG })
  await first.waitFor(/listening on/)
  // a live sender, 30 frames/s, that runs until interrupted (-e: EOS on SIGINT)
  const sender = new Launch(`videotestsrc is-live=true pattern=ball ! ${SMALL} ! qtisocketsink socket=${sock}`,
    { debug: DEBUG, args: ['-e'] })
  const r1 = await first.wait(30000)
  t.is(r1.code, 0, r1.out)
  await sender.waitFor(/went away; released the \d+ buffers it held/)

  await sleep(300) // the sender drops frames while nobody listens
  const second = new Launch(`qtisocketsrc socket=${sock} num-buffers=20 ! checksumsink`, { debug: DEBUG })
  const r2 = await second.wait(30000)
  t.is(r2.code, 0, r2.out)
  sender.kill('SIGINT')
  const s = await sender.wait(30000)
  t.is(s.code, 0, s.out)

  const a = indices(parseChecksums(r1.out), ref)
  const b = indices(parseChecksums(r2.out), ref)
  t.is(a.length, 20)
  t.is(b.length, 20)
  t.false(a.includes(-1) || b.includes(-1), 'every frame received is a frame the sender drew')
  t.true(consecutive(a), `first receiver: consecutive frames ${a}`)
  t.true(consecutive(b), `second receiver: consecutive frames ${b}`)
  t.true(b[0]! > a[19]! + 5, `the second receiver gets later frames (${a[19]} then ${b[0]}), not old ones`)
  const stats = stoppedStats(s.out, 'qtisocketsink')
  t.is(stats.connections, 2)
  t.is(stats['in-flight'], 0)
  t.is(stats.returned, stats.sent, 'every buffer came back or was released when its receiver left')
  t.regex(s.out, /No receiver is listening on .*: dropping buffers until one connects/)
})

test('a sender that restarts with new caps and a new segment is accepted by the running receiver', async t => {
  const sock = socketPath('tx-restart')
  const refSmall = await reference(SMALL, 900)
  const refLarge = await reference(LARGE, 15)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)

  // the first sender stops without end-of-stream (SIGINT without -e): the receiver waits for another
  const first = new Launch(`videotestsrc is-live=true pattern=ball ! ${SMALL} ! qtisocketsink socket=${sock}`,
    { debug: DEBUG })
  await receiver.waitForFrames(10)
  first.kill('SIGINT')
  t.is((await first.wait(30000)).code, 0)
  await receiver.waitFor(/disconnected without end-of-stream; waiting for a new sender/)
  const before = parseChecksums(receiver.out).length

  // the second sender: another resolution, its own segment from 0; its EOS ends the receiver's stream
  const [s2, r] = await waitAll([new Launch(`videotestsrc num-buffers=15 pattern=ball ! ${LARGE} ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true`, { debug: DEBUG }), receiver], 30000)
  t.is(s2.code, 0, s2.out)
  t.is(r.code, 0, r.out)

  const frames = parseChecksums(r.out)
  const old = frames.slice(0, before)
  const fresh = frames.slice(before)
  t.true(before >= 10)
  t.true(consecutive(indices(old, refSmall)) && !indices(old, refSmall).includes(-1), 'the first sender\'s frames')
  t.deepEqual(fresh.map(c => c.sha1), refLarge.map(c => c.sha1), 'the second sender\'s 15 frames, at its resolution, in order')
  // its running time is placed on the receiver's clock: later than the first sender's frames, spaced as sent
  t.true(fresh[0]!.pts > old[old.length - 1]!.pts, 'timestamps go on, not back to 0')
  for (let i = 2; i < fresh.length; i++)
    t.is(fresh[i]!.pts - fresh[1]!.pts, refLarge[i]!.pts - refLarge[1]!.pts, `spacing of frame ${i}`)
  t.is(stoppedStats(r.out, 'qtisocketsrc').connections, 2)
})

test('timeout: the source wakes every `timeout` ms of silence with an element message, and not while frames flow', async t => {
  const sock = socketPath('timeout')
  const receiver = new Launch(`qtisocketsrc socket=${sock} timeout=200 num-buffers=45 ! fakesink`, { args: ['-m'] })
  await receiver.waitForCount(/GstQtiSocketSrcTimeout, timeout=\(guint64\)200, connected=\(boolean\)false/g, 3)
  // 1.5 s of frames at 30/s from a sender connected all along: no wake-up
  const [s, r] = await waitAll([new Launch(`videotestsrc is-live=true num-buffers=60 ! ${SMALL} ! ` +
    `qtisocketsink socket=${sock}`), receiver], 30000)
  t.is(s.code, 0, s.out)
  t.is(r.code, 0, r.out)
  t.notRegex(r.out, /GstQtiSocketSrcTimeout[^\n]*connected=\(boolean\)true/, 'no wake-ups while frames flow')

  const never = new Launch(`qtisocketsrc socket=${socketPath('timeout0')} timeout=0 ! fakesink`, { args: ['-m'] })
  await never.waitFor(/Setting pipeline to PLAYING/)
  await sleep(800)
  never.kill('SIGINT')
  const n = await never.wait(10000)
  t.notRegex(n.out, /GstQtiSocketSrcTimeout/, 'timeout=0: never')
})
