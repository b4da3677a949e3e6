// Video meta (format, size, planes, offsets, strides) survives, padded strides and odd sizes
// included: converted to RGBA on the receiver, every frame is the image the sender drew.
import test from 'ava'
import * as crypto from 'crypto'
import { DEBUG, launch, Launch, parseChecksums, Peer, socketPath, stoppedStats, waitAll } from './helpers'

const FRAMES = 8
const TO_RGBA = 'videoconvert ! video/x-raw,format=RGBA ! checksumsink'

for (const format of ['I420', 'NV12', 'RGBA', 'GRAY8']) {
  for (const [w, h] of [[1366, 768], [321, 241]]) {
    test(`${format} ${w}x${h}: the visible image arrives identical`, async t => {
      const caps = `video/x-raw,format=${format},width=${w},height=${h},framerate=30/1`
      const reference = await launch(`videotestsrc num-buffers=${FRAMES} pattern=smpte ! ${caps} ! ${TO_RGBA}`)
      const sock = socketPath(`video-${format}`)
      const receiver = new Launch(`qtisocketsrc socket=${sock} ! ${TO_RGBA}`, { debug: DEBUG })
      await receiver.waitFor(/listening on/)
      const [s, r] = await waitAll([new Launch(`videotestsrc num-buffers=${FRAMES} pattern=smpte ! ${caps} ! ` +
        `qtisocketsink socket=${sock} wait-for-connection=true sync=false`, { debug: DEBUG }), receiver], 30000)
      t.is(s.code, 0, s.out)
      t.is(r.code, 0, r.out)
      t.is(stoppedStats(s.out, 'qtisocketsink').copied, 0, 'upstream drew into the memfd pool')
      t.deepEqual(parseChecksums(r.out).map(c => c.sha1), parseChecksums(reference.out).map(c => c.sha1))
      t.is(parseChecksums(r.out).length, FRAMES)
    })
  }
}

for (const unsealable of [false, true]) {
  test(`planes in separate memories, strides unlike the default, fd memory at an offset${unsealable
    ? ' that cannot be sealed against shrinking (copied)' : ''}: the image arrives identical`, async t => {
    // test/peers/padded.py: Y in a memfd at offset 64 (sealed by the sink and sent as is; copied if it
    // cannot be sealed), U and V in system memory (copied once), strides 512/256/256 for 321x241, garbage
    // in the padding; it prints the image as it sees it
    const sock = socketPath('padded')
    const frames = 6
    const receiver = new Launch(`qtisocketsrc socket=${sock} ! ${TO_RGBA}`, { debug: DEBUG })
    await receiver.waitFor(/listening on/)
    const sender = new Peer('padded.py', [sock, String(frames), ...(unsealable ? ['--unsealable'] : [])],
      { GST_DEBUG: 'qtisocketsink:4' })
    const code = await sender.exited
    const out = sender.out
    const r = await receiver.wait(30000)
    t.is(code, 0, out)
    t.is(r.code, 0, r.out)
    const sent = parseChecksums(out)
    t.is(sent.length, frames, out)
    t.deepEqual(parseChecksums(r.out).map(c => c.sha1), sent.map(c => c.sha1))
    const stats = stoppedStats(out, 'qtisocketsink')
    t.is(stats.copied, frames, 'each buffer copied once')
    t.is(stats['bytes-copied'], frames * ((unsealable ? 512 * 241 : 0) + 2 * 256 * 121),
      unsealable ? 'Y, U and V copied' : 'U and V copied; Y, in a sealable memfd, sent as it is')
  })
}

test('DMA-BUF memory upstream is sent as DMA-BUF (kind 2, its own fd, not copied) and arrives intact', async t => {
  // the DMA-BUF allocator wraps memfds here: nothing on this machine exports real DMA-BUFs
  const frames = 3
  const sender = async (sock: string) => {
    const p = new Peer('dmabuf_sender.py', [sock, String(frames)], { GST_DEBUG: DEBUG })
    return { code: await p.exited, out: p.out }
  }

  // on the wire, to a receiver written from the protocol document
  const rawSock = socketPath('dmabuf-raw')
  const peer = new Peer('raw_receiver.py', [rawSock, '--minor', '1', '--buffers', String(frames)])
  await peer.waitFor('listening')
  const s1 = await sender(rawSock)
  t.is(await peer.exited, 0, peer.out)
  t.is(s1.code, 0, s1.out)
  t.deepEqual(peer.lines('buffer '), Array(frames).fill('buffer kinds=[2] fds=1 data=0'))

  // to our receiver: the bytes as sent, nothing copied on the way
  const sock = socketPath('dmabuf')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const s2 = await sender(sock)
  const r = await receiver.wait(30000)
  t.is(s2.code, 0, s2.out)
  t.is(r.code, 0, r.out)
  const sha1 = (n: number) => crypto.createHash('sha1').update(Buffer.alloc(64 * 64, n + 1)).digest('hex')
  t.deepEqual(parseChecksums(r.out).map(c => c.sha1), Array.from({ length: frames }, (_, n) => sha1(n)))
  t.is(stoppedStats(s2.out, 'qtisocketsink').copied, 0)
  t.is(stoppedStats(s2.out, 'qtisocketsink')['bytes-copied'], 0)
})
