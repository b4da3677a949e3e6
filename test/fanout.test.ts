// Zero-copy where users put the sink, not only in the simplest line: a tee fanning one producer out to
// several qtisocketsinks (and to branches of its own), a rate changer upstream, and the copy fallback
// for an upstream that ignores the sink's allocation answer.
import test from 'ava'
import { allStoppedStats, DEBUG, launch, Launch, parseChecksums, socketPath, stoppedStats } from './helpers'

const CAPS = 'video/x-raw,format=NV12,width=640,height=360,framerate=30/1'
const FRAMES = 150

const sha1s = (out: string) => parseChecksums(out).map(c => c.sha1)

/** producer ! middle ! qtisocketsink -> qtisocketsrc ! checksumsink, beside the same producer ! middle
 *  into checksumsink in one process: the frames each got, and the sink's stats */
async function oneHop(name: string, middle: string): Promise<{ want: string[], got: string[], stats: Record<string, number> }> {
  const sock = socketPath(name)
  const produce = `videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS}${middle ? ` ! ${middle}` : ''}`
  const reference = await launch(`${produce} ! checksumsink`)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = await launch(`${produce} ! qtisocketsink socket=${sock} wait-for-connection=true`, { debug: DEBUG })
  if (sender.code !== 0)
    throw new Error(sender.out)
  const got = await receiver.wait(30000)
  return { want: sha1s(reference.out), got: sha1s(got.out), stats: stoppedStats(sender.out, 'qtisocketsink') }
}

for (const n of [2, 3]) {
  test(`tee to ${n} qtisocketsinks and ${n} receivers: frames identical, 0 bytes copied, each memfd sent once per connection, no JS call per buffer`, async t => {
    const socks = Array.from({ length: n }, (_, i) => socketPath(`tee${n}-${i}`))
    const reference = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! checksumsink`)
    const receivers = socks.map(s => new Launch(`qtisocketsrc socket=${s} ! checksumsink`, { debug: DEBUG }))
    await Promise.all(receivers.map(r => r.waitFor(/listening on/)))
    // bounded queues: the producer's pool stays small, so "each memfd once" is a handful of fds
    const branches = socks.map(s => `t. ! queue max-size-buffers=3 ! qtisocketsink socket=${s} wait-for-connection=true`).join(' ')
    const sender = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! tee name=t ${branches}`,
      { debug: DEBUG, timeoutMs: 60000 })
    t.is(sender.code, 0, sender.out)
    const sinks = allStoppedStats(sender.out, 'qtisocketsink')
    t.is(sinks.length, n)
    for (const [i, r] of receivers.entries()) {
      const got = await r.wait(30000)
      t.is(got.code, 0, got.out)
      t.deepEqual(sha1s(got.out), sha1s(reference.out), `receiver ${i}`)
      const src = stoppedStats(got.out, 'qtisocketsrc')
      t.is(sinks[i]!.copied, 0)
      t.is(sinks[i]!['bytes-copied'], 0)
      // the producer's pool: a handful of memfds, each crossing once to each receiver
      t.true(sinks[i]!['fds-sent'] <= 16, `fds-sent ${sinks[i]!['fds-sent']}`)
      t.is(src['fds-received'], sinks[i]!['fds-sent'])
      t.true(sinks[i]!['js-calls'] <= 20, `js-calls ${sinks[i]!['js-calls']} for ${FRAMES} buffers`)
      t.true(src['js-calls'] <= 20, `receiver js-calls ${src['js-calls']} for ${FRAMES} buffers`)
    }
  })
}

test('tee to a qtisocketsink and a branch of its own that reads every frame: both get the same frames, nothing copied', async t => {
  const sock = socketPath('tee-mixed')
  const reference = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! checksumsink`)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! tee name=t ` +
    `t. ! queue ! qtisocketsink socket=${sock} wait-for-connection=true t. ! queue ! videoconvert ! checksumsink`,
  { debug: DEBUG })
  t.is(sender.code, 0, sender.out)
  const got = await receiver.wait(30000)
  t.deepEqual(sha1s(got.out), sha1s(reference.out))
  t.deepEqual(sha1s(sender.out), sha1s(reference.out))
  t.is(stoppedStats(sender.out, 'qtisocketsink').copied, 0)
})

test('videorate upstream (it copies the frames it repeats): its copies reuse memfds, so few fds cross and no JS call per buffer', async t => {
  const { want, got, stats } = await oneHop('videorate', 'videorate ! video/x-raw,framerate=45/1')
  t.true(want.length > FRAMES, 'videorate repeated frames')
  t.deepEqual(got, want)
  t.true(stats['fds-sent']! <= 16, `fds-sent ${stats['fds-sent']} for ${want.length} buffers`)
  t.true(stats['js-calls']! <= 20, `js-calls ${stats['js-calls']} for ${want.length} buffers`)
})

test('an upstream that ignores the allocation answer: each buffer is copied, into memfds that are reused (few fds cross, no JS call per buffer)', async t => {
  // identity drop-allocation=true does not pass the sink's allocation answer upstream
  const { want, got, stats } = await oneHop('copy-reuse', 'identity drop-allocation=true')
  t.deepEqual(got, want)
  t.is(stats.copied, FRAMES)
  t.true(stats['fds-sent']! <= 20, `fds-sent ${stats['fds-sent']} for ${FRAMES} copies`)
  t.true(stats['js-calls']! <= 25, `js-calls ${stats['js-calls']} for ${FRAMES} buffers`)
})

for (const [what, middle] of [
  ['videoflip', 'videoflip method=rotate-180'],
  ['videoconvert to another format', 'videoconvert ! video/x-raw,format=I420'],
  ['a decoder (jpegdec)', 'jpegenc ! jpegdec'],
] as const) {
  test(`${what} upstream: it draws into the sink's memfds, nothing copied, few fds, no JS call per buffer`, async t => {
    const { want, got, stats } = await oneHop('upstream', middle)
    t.deepEqual(got, want)
    t.is(stats.copied, 0)
    t.true(stats['fds-sent']! <= 16, `fds-sent ${stats['fds-sent']} for ${FRAMES} buffers`)
    t.true(stats['js-calls']! <= 20, `js-calls ${stats['js-calls']} for ${FRAMES} buffers`)
  })
}
