// Frames cross two gst-launch processes in order, byte-identical, with their timestamps, and the
// receiver maps the very memfds the sender's upstream drew into.
import test from 'ava'
import { Checksum, checksums, DEBUG, launch, Launch, mappedMemfdInodes, openMemfdInodes, parseChecksums, runPeer, sleep,
  socketPath, stoppedStats, waitAll } from './helpers'

const CAPS = 'video/x-raw,format=I420,width=1920,height=1080,framerate=30/1'

/** The same frames in the same order, and the same timing: the receiver's timestamps are its running
 *  times for the sender's instants, so they keep the sender's spacing exactly. Frame 0 is the
 *  sender's preroll buffer, sent before its running time sat on the clock: it comes placed at the
 *  instant it was sent, which is before frame 1 is due, however late a slow receiver reads it. */
function sameFramesAndTiming(t: import('ava').ExecutionContext, received: Checksum[], sent: Checksum[]): void {
  t.deepEqual(received.map(c => c.sha1), sent.map(c => c.sha1), 'byte-identical, in order')
  for (let i = 2; i < sent.length; i++)
    t.is(received[i]!.pts - received[1]!.pts, sent[i]!.pts - sent[1]!.pts, `spacing of frame ${i}`)
  t.true(received[0]!.pts <= received[1]!.pts, 'the preroll frame comes first')
}

test('1080p I420 frames arrive in order, byte-identical, pts preserved; both processes exit 0', async t => {
  const sock = socketPath('datapath')
  const frames = 30
  const reference = await launch(`videotestsrc num-buffers=${frames} pattern=ball ! ${CAPS} ! checksumsink`)
  t.is(checksums(reference.out).length, frames)

  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const [sender, received] = await waitAll([new Launch(`videotestsrc num-buffers=${frames} pattern=ball ! ${CAPS} ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true sync=false`, { debug: `${DEBUG},qtisocketsink:6` }), receiver], 30000)

  t.is(sender.code, 0, sender.out)
  t.is(received.code, 0, received.out)
  sameFramesAndTiming(t, parseChecksums(received.out), parseChecksums(reference.out))
  const sent = stoppedStats(sender.out, 'qtisocketsink')
  t.is(sent.sent, frames)
  t.is(sent.returned, frames)
  t.is(sent.copied, 0, 'upstream drew into the proposed memfd pool: nothing copied')
  const got = stoppedStats(received.out, 'qtisocketsrc')
  t.is(got.received, frames)
  // the fd cache: each of the pool's memfds crosses once; later buffers name it by id
  // (as many as the pool has memfds: 2 to 8 here, more where the receiver holds more at once, e.g. 12
  // under arm64 emulation; never more than max-in-flight (16) plus the pool's 2 spare)
  t.true(sent['fds-sent']! >= 2 && sent['fds-sent']! <= 18, `${sent['fds-sent']} fds sent for ${frames} buffers`)
  t.is(got['fds-received'], sent['fds-sent'])
  // the fast path: each buffer is answered natively on both sides, without a call into JavaScript,
  // but for those that bring a new fd (the first brings the caps too) and the one after them that
  // the helper keeps as the model of the next
  t.true(frames - sent['fast-path']! <= sent['fds-sent']! + 1, `sender: ${sent['fast-path']} of ${frames} on the fast path`)
  t.true(frames - got['fast-path']! <= sent['fds-sent']! + 1, `receiver: ${got['fast-path']} of ${frames} on the fast path`)
  // the other calls: start, caps, greeting, end-of-stream, stop...
  t.true(sent['js-calls']! <= frames - sent['fast-path']! + 10, `sender: ${sent['js-calls']} JS calls for ${frames} buffers`)
  t.true(got['js-calls']! <= frames - got['fast-path']! + 10, `receiver: ${got['js-calls']} JS calls for ${frames} buffers`)
})

test('zero-copy: the receiver maps the very memfds the sender filled, and nothing is copied', async t => {
  const sock = socketPath('zerocopy')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = new Launch(`videotestsrc num-buffers=90 ! ${CAPS} ! qtisocketsink socket=${sock} wait-for-connection=true`,
    { debug: DEBUG })
  await receiver.waitForFrames(10)

  let shared = new Set<number>()
  for (let i = 0; i < 20 && shared.size === 0; i++) {
    const senderFds = openMemfdInodes(sender.pid)
    const receiverMaps = mappedMemfdInodes(receiver.pid)
    shared = new Set([...receiverMaps].filter(ino => senderFds.has(ino)))
    if (!shared.size)
      await sleep(50)
  }
  const [s, r] = await waitAll([sender, receiver])
  t.is(s.code, 0, s.out)
  t.is(r.code, 0, r.out)
  t.true(shared.size > 0, 'a memfd open in the sender is mapped by the receiver (same inode)')
  t.is(stoppedStats(s.out, 'qtisocketsink').copied, 0)
})

test('memory upstream did not draw into our pool is copied into a memfd once, counted, and arrives intact', async t => {
  const sock = socketPath('copy')
  const frames = 10
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  // identity drop-allocation=true does not pass the sink's allocation answer upstream: videotestsrc
  // draws into system memory
  const [sender, received] = await waitAll([new Launch(`videotestsrc num-buffers=${frames} pattern=ball ! ${CAPS} ! ` +
    `identity drop-allocation=true ! tee name=t ! queue ! qtisocketsink socket=${sock} wait-for-connection=true t. ! queue ! checksumsink`, { debug: DEBUG }),
  receiver], 30000)
  t.is(sender.code, 0, sender.out)
  t.is(received.code, 0, received.out)
  sameFramesAndTiming(t, parseChecksums(received.out), parseChecksums(sender.out))
  t.is(checksums(received.out).length, frames)
  const stats = stoppedStats(sender.out, 'qtisocketsink')
  t.is(stats.copied, frames)
  t.is(stats['bytes-copied'], frames * 1920 * 1080 * 3 / 2)
})

test('end-of-stream arrives even when the sender closes with the receiver\'s releases unread', async t => {
  // the kernel then reports ECONNRESET once, before the sender's last messages: they must still be read
  const sock = socketPath('reset')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const peer = runPeer('raw_sender.py', [sock, '--frames', '3', '--hold-ms', '300'])
  t.is(peer.status, 0, peer.out)
  const r = await receiver.wait(15000)
  t.is(r.code, 0, r.out)
  t.regex(r.out, /end of stream from the sender/)
  t.notRegex(r.out, /disconnected without end-of-stream/)
  t.is(stoppedStats(r.out, 'qtisocketsrc').received, 3)
})
