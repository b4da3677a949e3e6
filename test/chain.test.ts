// A three-process chain, as in the seed's modular pipelines: producer -> relay (qtisocketsrc !
// qtisocketsink: it forwards the very buffers it receives) -> consumer. Nothing is copied on either
// hop: the consumer maps the very memfds the producer's upstream drew into, and each of them crosses
// each hop once (the fd cache).
import test from 'ava'
import { DEBUG, launch, Launch, mappedMemfdInodes, openMemfdInodes, parseChecksums, sleep, socketPath,
  stoppedStats, waitAll } from './helpers'

const CAPS = 'video/x-raw,format=NV12,width=1920,height=1080,framerate=60/1'

test('producer -> relay -> consumer: frames identical, zero bytes copied on both hops, the same memfds end to end', async t => {
  const [a, b] = [socketPath('chain-a'), socketPath('chain-b')]
  const frames = 90
  const reference = await launch(`videotestsrc num-buffers=${frames} pattern=ball ! ${CAPS} ! checksumsink`)
  const consumer = new Launch(`qtisocketsrc socket=${b} ! checksumsink`, { debug: DEBUG })
  const relay = new Launch(`qtisocketsrc socket=${a} ! qtisocketsink socket=${b} wait-for-connection=true`, { debug: DEBUG })
  await consumer.waitFor(/listening on/)
  await relay.waitFor(/listening on/)
  const producer = new Launch(`videotestsrc num-buffers=${frames} pattern=ball ! ${CAPS} ! ` +
    `qtisocketsink socket=${a} wait-for-connection=true`, { debug: DEBUG })
  await consumer.waitForFrames(10)
  let shared = new Set<number>()
  for (let i = 0; i < 20 && shared.size === 0; i++) {
    const made = openMemfdInodes(producer.pid)
    shared = new Set([...mappedMemfdInodes(consumer.pid)].filter(ino => made.has(ino)))
    if (!shared.size)
      await sleep(20)
  }
  const [p, r, c] = await waitAll([producer, relay, consumer], 30000)
  for (const e of [p, r, c])
    t.is(e.code, 0, e.out)
  t.true(shared.size > 0, 'the consumer maps memfds the producer holds')
  t.deepEqual(parseChecksums(c.out).map(x => x.sha1), parseChecksums(reference.out).map(x => x.sha1))
  t.notRegex(r.out, /please add queues/, 'the relay\'s latency is consistent')
  const hop1 = stoppedStats(p.out, 'qtisocketsink')
  const hop2 = stoppedStats(r.out, 'qtisocketsink')
  t.like(hop1, { sent: frames, returned: frames, copied: 0, 'bytes-copied': 0 })
  t.like(hop2, { sent: frames, returned: frames, copied: 0, 'bytes-copied': 0 })
  t.is(stoppedStats(c.out, 'qtisocketsrc').received, frames)
  // the fd cache on both hops: the relay forwards memory on the fds it keeps cached, so it too sends
  // each of them once. How many memfds the producer's pool makes depends on how many buffers are held
  // at once: 2 to 8 here, more on a slow machine (17 under arm64 emulation), never more than
  // max-in-flight (16) plus the pool's 2 spare
  t.true(hop1['fds-sent']! <= 18, `hop 1: ${hop1['fds-sent']} fds for ${frames} frames`)
  t.true(hop2['fds-sent']! <= hop1['fds-sent']!, `hop 2: ${hop2['fds-sent']} fds for ${frames} frames, hop 1 ${hop1['fds-sent']}`)
})
