// Zero-copy where users put the sink, not only in the simplest line: a tee fanning one producer out to
// several qtisocketsinks (and to branches of its own), a rate changer upstream, and the copy fallback
// for an upstream that ignores the sink's allocation answer.
import test from 'ava'
import { DEBUG, launch, Launch, parseChecksums, socketPath } from './helpers'

const CAPS = 'video/x-raw,format=NV12,width=640,height=360,framerate=30/1'
const FRAMES = 150

/** every qtisocketsink's (or qtisocketsrc's) stats printed at stop, in order */
function allStats(out: string, factory: 'qtisocketsink' | 'qtisocketsrc'): Array<Record<string, number>> {
  return [...out.matchAll(new RegExp(`${factory}-stats, ([^;]*);`, 'g'))].map(m => {
    const stats: Record<string, number> = {}
    for (const [, k, v] of m[1]!.matchAll(/([a-z-]+)=\([a-z0-9]+\)(\d+)/g))
      stats[k!] = Number(v)
    return stats
  })
}

const sha1s = (out: string) => parseChecksums(out).map(c => c.sha1)

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
    const sinks = allStats(sender.out, 'qtisocketsink')
    t.is(sinks.length, n)
    for (const [i, r] of receivers.entries()) {
      const got = await r.wait(30000)
      t.is(got.code, 0, got.out)
      t.deepEqual(sha1s(got.out), sha1s(reference.out), `receiver ${i}`)
      const src = allStats(got.out, 'qtisocketsrc')[0]!
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
  t.is(allStats(sender.out, 'qtisocketsink')[0]!.copied, 0)
})

test('videorate upstream (it copies the frames it repeats): its copies reuse memfds, so few fds cross and no JS call per buffer', async t => {
  const sock = socketPath('videorate')
  const rate = 'videorate ! video/x-raw,framerate=45/1'
  const reference = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! ${rate} ! checksumsink`)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! ${rate} ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true`, { debug: DEBUG })
  t.is(sender.code, 0, sender.out)
  const got = await receiver.wait(30000)
  const frames = sha1s(reference.out)
  t.true(frames.length > FRAMES, 'videorate repeated frames')
  t.deepEqual(sha1s(got.out), frames)
  const stats = allStats(sender.out, 'qtisocketsink')[0]!
  t.true(stats['fds-sent'] <= 16, `fds-sent ${stats['fds-sent']} for ${frames.length} buffers`)
  t.true(stats['js-calls'] <= 20, `js-calls ${stats['js-calls']} for ${frames.length} buffers`)
})

test('an upstream that ignores the allocation answer: each buffer is copied, into memfds that are reused (few fds cross, no JS call per buffer)', async t => {
  const sock = socketPath('copy-reuse')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const reference = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! checksumsink`)
  const sender = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! identity drop-allocation=true ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true`, { debug: DEBUG })
  t.is(sender.code, 0, sender.out)
  const got = await receiver.wait(30000)
  t.deepEqual(sha1s(got.out), sha1s(reference.out))
  const stats = allStats(sender.out, 'qtisocketsink')[0]!
  t.is(stats.copied, FRAMES)
  t.true(stats['fds-sent'] <= 20, `fds-sent ${stats['fds-sent']} for ${FRAMES} copies`)
  t.true(stats['js-calls'] <= 25, `js-calls ${stats['js-calls']} for ${FRAMES} buffers`)
})

for (const [what, middle] of [
  ['videoflip', 'videoflip method=rotate-180'],
  ['videoconvert to another format', 'videoconvert ! video/x-raw,format=I420'],
  ['a decoder (jpegdec)', 'jpegenc ! jpegdec'],
] as const) {
  test(`${what} upstream: it draws into the sink's memfds, nothing copied, few fds, no JS call per buffer`, async t => {
    const sock = socketPath('upstream')
    const reference = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! ${middle} ! checksumsink`)
    const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
    await receiver.waitFor(/listening on/)
    const sender = await launch(`videotestsrc num-buffers=${FRAMES} pattern=ball ! ${CAPS} ! ${middle} ! ` +
      `qtisocketsink socket=${sock} wait-for-connection=true`, { debug: DEBUG })
    t.is(sender.code, 0, sender.out)
    const got = await receiver.wait(30000)
    t.deepEqual(sha1s(got.out), sha1s(reference.out))
    const stats = allStats(sender.out, 'qtisocketsink')[0]!
    t.is(stats.copied, 0)
    t.true(stats['fds-sent'] <= 16, `fds-sent ${stats['fds-sent']} for ${FRAMES} buffers`)
    t.true(stats['js-calls'] <= 20, `js-calls ${stats['js-calls']} for ${FRAMES} buffers`)
  })
}
