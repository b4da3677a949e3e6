// Upstream GStreamer's unixfd wire (issue 16, part 2): wire=unixfd on both elements. Our src connects to
// their unixfdsink, our sink serves their unixfdsrc. The peer is test/peers/unixfd_peer.py (their wire,
// written from their source; checked by hand against GStreamer 1.28.6's elements: docs/unixfd-interop.md):
// frames identical both ways and through a relay with padded strides, every buffer released, and a peer
// that lies (sizes, counts, fds of the wrong kind, ids it never got) is warned about, naming the socket,
// and disconnected, the others served, no fd left behind.
import test from 'ava'
import { spawnSync } from 'child_process'
import { DEBUG, fdsButMemfds, fdsSettled, gstEnv, launch, Launch, parseChecksums, Peer, sleep, socketPath, stoppedStats,
  waitAll } from './helpers'

const CAPS = 'video/x-raw,format=NV12,width=320,height=240,framerate=30/1'
const sha1s = (out: string) => parseChecksums(out).map(c => c.sha1)
/** the peer's "frame N SHA1" (visible image) or "raw N SHA1" (whole memory) lines */
const peerLines = (out: string, kind: 'frame' | 'raw') =>
  out.split('\n').filter(l => l.startsWith(`${kind} `)).map(l => l.split(' ')[2]!)

for (const format of ['NV12', 'I420']) {
  test(`their sink → our src (wire=unixfd), ${format} with strides padded by 64: every frame's bytes as sent, mapped, not copied; every buffer released; end-of-stream crosses`, async t => {
    const sock = socketPath(`ufd-in-${format}`)
    const peer = new Peer('unixfd_peer.py', ['sink', sock, format, '320', '240', '30', '--pad', '64'])
    await peer.waitFor('listening')
    const got = await launch(`qtisocketsrc socket=${sock} wire=unixfd ! checksumsink`, { debug: DEBUG })
    t.is(got.code, 0, got.out)
    t.is(await peer.exited, 0, peer.out)
    t.deepEqual(sha1s(got.out), peerLines(peer.out, 'raw'))
    t.true(peer.out.includes('released 30 of 30'), peer.out)
    const stats = stoppedStats(got.out, 'qtisocketsrc')
    t.is(stats.received, 30)
    t.is(stats.returned, 30)
    t.is(stats.copied, 0)
    t.is(stats['fds-received'], 30, 'their wire sends each buffer\'s fd with it')
    t.true(stats['js-calls']! <= 10, `js-calls ${stats['js-calls']}: their buffers are decoded natively`)
    t.notRegex(got.out, /WARNING|ERROR/)
  })

  test(`their sink → our relay (src and sink, wire=unixfd) → their src, ${format} with strides padded by 64: every visible image identical (the video meta read and written again), every buffer released at both ends`, async t => {
    const inSock = socketPath(`ufd-relay-in-${format}`)
    const outSock = socketPath(`ufd-relay-out-${format}`)
    const relay = new Launch(`qtisocketsrc socket=${inSock} wire=unixfd ! qtisocketsink socket=${outSock} wire=unixfd ` +
      'wait-for-connection=true', { debug: DEBUG })
    await relay.waitFor(/listening on/)
    const receiver = new Peer('unixfd_peer.py', ['src', outSock])
    await relay.waitFor(/receiver 1 .* joined/)
    const sender = new Peer('unixfd_peer.py', ['sink', inSock, format, '320', '240', '30', '--pad', '64'])
    t.is(await receiver.exited, 0, receiver.out)
    t.is(await sender.exited, 0, sender.out)
    const relayed = await relay.wait(30000)
    t.is(relayed.code, 0, relayed.out)
    const sent = peerLines(sender.out, 'frame')
    t.is(sent.length, 30)
    t.deepEqual(peerLines(receiver.out, 'frame'), sent)
    t.true(receiver.out.includes(`caps video/x-raw, format=(string)${format}, width=(int)320, height=(int)240`), receiver.out)
    t.true(sender.out.includes('released 30 of 30'), sender.out)
    const sink = stoppedStats(relayed.out, 'qtisocketsink')
    t.is(sink.sent, 30)
    t.is(sink.returned, 30)
    t.is(sink['bytes-copied'], 0, 'the memfds received went on as they were')
    t.notRegex(relayed.out, /WARNING|ERROR/)
  })

  test(`our sink (wire=unixfd) → their src, ${format}: caps first, every frame identical, every buffer returned, nothing copied`, async t => {
    const sock = socketPath(`ufd-out-${format}`)
    const caps = `video/x-raw,format=${format},width=320,height=240,framerate=30/1`
    const produce = `videotestsrc num-buffers=30 pattern=ball ! ${caps}`
    const reference = sha1s((await launch(`${produce} ! checksumsink`)).out)
    const sender = new Launch(`${produce} ! qtisocketsink socket=${sock} wire=unixfd wait-for-connection=true`, { debug: DEBUG })
    await sender.waitFor(/listening on/)
    const receiver = new Peer('unixfd_peer.py', ['src', sock])
    const sent = await sender.wait(30000)
    t.is(sent.code, 0, sent.out)
    t.is(await receiver.exited, 0, receiver.out)
    t.deepEqual(peerLines(receiver.out, 'frame'), reference)
    t.true(receiver.out.includes('eos'), receiver.out)
    const stats = stoppedStats(sent.out, 'qtisocketsink')
    t.is(stats.sent, 30)
    t.is(stats.returned, 30)
    t.is(stats['bytes-copied'], 0)
    t.true(stats['js-calls']! <= 30, `js-calls ${stats['js-calls']}`)
    t.notRegex(sent.out, /WARNING|ERROR/)
  })
}

test('our sink (wire=unixfd) serves two of our srcs (wire=unixfd): each gets every frame from its join point, timestamps as running times', async t => {
  const sock = socketPath('ufd-ours')
  const produce = `videotestsrc num-buffers=90 pattern=ball ! ${CAPS}`
  const reference = sha1s((await launch(`${produce} ! checksumsink`)).out)
  // the receivers retry until the sink listens; slow-receiver=wait: a loaded machine's hiccup is no skip
  const receivers = [0, 1].map(() => new Launch(`qtisocketsrc socket=${sock} wire=unixfd ! checksumsink`, { debug: DEBUG }))
  await Promise.all(receivers.map(r => r.waitFor(/no sender listens on/)))
  const sender = new Launch(`${produce} ! qtisocketsink socket=${sock} wire=unixfd wait-for-connection=true slow-receiver=wait`,
    { debug: DEBUG })
  const sent = await sender.wait(30000)
  t.is(sent.code, 0, sent.out)
  const counts: number[] = []
  for (const r of receivers) {
    const got = await r.wait(30000)
    t.is(got.code, 0, got.out)
    const frames = parseChecksums(got.out)
    const at = reference.indexOf(frames[0]!.sha1)
    t.true(at >= 0, 'its first frame is one of the sender\'s')
    t.deepEqual(frames.map(f => f.sha1), reference.slice(at))
    counts.push(frames.length)
    // the sender's instants on CLOCK_MONOTONIC, back to running time: 30 frames/s apart, as sent (from the
    // second frame: the one sent at preroll, before the sender's running time is on the clock, is
    // stamped with the instant it was sent)
    for (let i = 2; i < frames.length; i++) {
      const gap = Number(frames[i]!.pts - frames[i - 1]!.pts) / 1e6
      t.true(gap > 30 && gap < 37, `frame ${i}: ${gap} ms after the one before`)
    }
    const stats = stoppedStats(got.out, 'qtisocketsrc')
    t.is(stats.returned, stats.received)
    t.is(stats.copied, 0)
  }
  t.is(Math.max(...counts), 90)
  const stats = stoppedStats(sent.out, 'qtisocketsink')
  t.is(stats.connections, 2)
  t.is(stats.returned, stats.sent)
  t.is(stats['bytes-copied'], 0)
})

for (const lie of ['size', 'count', 'kind', 'meta', 'release']) {
  test(`a unixfd sender that lies (${lie}): our src warns naming the socket, drops the connection, keeps no fd of it`, async t => {
    const sock = socketPath(`ufd-lie-${lie}`)
    const src = new Launch(`qtisocketsrc socket=${sock} wire=unixfd ! fakesink`, { debug: DEBUG })
    await src.waitFor(/no sender listens on/)
    // PLAYING, settled: GStreamer opens some of its fds lazily on the way (a loaded machine takes a while)
    await src.waitFor(/New clock/)
    await sleep(300)
    const before = await fdsButMemfds(src.pid)
    const peer = new Peer('unixfd_peer.py', ['sink', sock, 'NV12', '320', '240', '10', '--lie', lie])
    t.is(await peer.exited, 0, peer.out)
    t.true(peer.out.includes('dropped') && !peer.out.includes('not dropped'), peer.out)
    await sleep(200)
    t.is(src.child.exitCode, null, 'the receiver runs on')
    t.is(await fdsSettled(src.pid, before), before, 'the receiver\'s fds after the liar left')
    src.kill('SIGINT')
    const got = await src.wait(20000)
    t.regex(got.out, new RegExp(`WARNING: .*The sender on "${sock}" \\(upstream's unixfd wire\\) .*disconnected it`))
    t.notRegex(got.out, /ERROR|CRITICAL/)
  })
}

test('unixfd receivers that lie (an id never sent, one released twice, a short release, fds on a release, CAPS): each is warned about naming the socket and dropped; an honest one gets every frame; the sender\'s fds are as before', async t => {
  const sock = socketPath('ufd-liars')
  const sender = new Launch(`videotestsrc pattern=ball is-live=true ! ${CAPS} ! qtisocketsink socket=${sock} wire=unixfd ` +
    'wait-for-connection=true slow-receiver=wait', { debug: DEBUG, args: ['-e'] })
  await sender.waitFor(/listening on/)
  const honest = new Launch(`qtisocketsrc socket=${sock} wire=unixfd ! checksumsink`, { debug: DEBUG })
  await sender.waitFor(/receiver 1 .* joined/)
  await sleep(300)
  const before = await fdsButMemfds(sender.pid)
  const lies = ['unknown-id', 'twice', 'short', 'fds', 'caps']
  for (const lie of lies) {
    const liar = new Peer('unixfd_peer.py', ['src', sock, '--lie', lie])
    t.is(await liar.exited, 0, liar.out)
    t.true(liar.out.includes('dropped') && !liar.out.includes('not dropped'), `${lie}: ${liar.out}`)
  }
  await sleep(300)
  t.is(await fdsSettled(sender.pid, before), before, 'the sender\'s fds after the liars left')
  sender.kill('SIGINT')
  const sent = await sender.wait(30000)
  t.is(sent.code, 0, sent.out)
  const warnings = sent.out.match(new RegExp(`WARNING: .*A receiver on "${sock}" \\(upstream's unixfd wire, receiver \\d+\\) .*: disconnected it`, 'g')) ?? []
  t.is(warnings.length, lies.length, sent.out)
  const got = await honest.wait(30000)
  t.is(got.code, 0, got.out)
  const frames = sha1s(got.out)
  const stats = stoppedStats(sent.out, 'qtisocketsink')
  t.is(frames.length, stats.rendered, 'the honest receiver got every frame')
  t.deepEqual(frames, sha1s((await launch(`videotestsrc num-buffers=${frames.length} pattern=ball ! ${CAPS} ! checksumsink`)).out))
  t.is(stats.returned, stats.sent)
})

test('a unixfd sink on a socket where a listening sink of our wire is: refused, naming the socket and the other wire', async t => {
  const sock = socketPath('ufd-taken')
  const first = new Launch(`videotestsrc is-live=true ! ${CAPS} ! qtisocketsink socket=${sock} mode=listen`, { debug: DEBUG })
  await first.waitFor(/listening on/)
  const second = await launch(`videotestsrc num-buffers=10 ! ${CAPS} ! qtisocketsink socket=${sock} wire=unixfd`)
  t.not(second.code, 0)
  t.regex(second.out, new RegExp(`Cannot listen on "${sock}": another process is listening on it \\(with a socket of the other type`))
  t.is(first.child.exitCode, null, 'the first runs on')
  first.kill('SIGINT')
  await first.wait(20000)
})

test('their sink greets a client that comes before its caps with CAPS "NULL": our src waits for the real caps, and every frame arrives', async t => {
  // GStreamer 1.26's unixfdsink sends gst_caps_to_string (NULL) to a client that connects before the
  // sink has caps (a relay in front of it, a camera still starting): found against the real one
  const sock = socketPath('ufd-null-caps')
  const peer = new Peer('unixfd_peer.py', ['sink', sock, 'NV12', '320', '240', '10', '--null-caps'])
  await peer.waitFor('listening')
  // downstream takes video only (as a relay's sink does): "NULL" taken for caps is refused there
  const got = await launch(`qtisocketsrc socket=${sock} wire=unixfd ! video/x-raw ! checksumsink`, { debug: DEBUG })
  t.is(got.code, 0, got.out)
  t.is(await peer.exited, 0, peer.out)
  t.deepEqual(sha1s(got.out), peerLines(peer.out, 'raw'))
  t.regex(got.out, /caps from the sender on .*: video\/x-raw, format=\(string\)NV12/)
  t.notRegex(got.out, /caps NULL|WARNING|ERROR/)
})

// The real elements, where the system's GStreamer has them (Debian 13's 1.26; Debian 12's 1.22 has
// none): their unixfdsink to our src, our sink to their unixfdsrc, and their sink through our relay to
// their src. (The tests above use test/peers/unixfd_peer.py, written from their source, everywhere.)
const systemUnixfd = ['unixfdsink', 'unixfdsrc'].every(e => spawnSync('gst-inspect-1.0', [e], { env: gstEnv() }).status === 0)
if (systemUnixfd) {
  const produce = `videotestsrc num-buffers=30 pattern=ball ! ${CAPS}`

  test('the system\'s unixfdsink → our src (wire=unixfd): every frame identical, every buffer returned, nothing copied, end-of-stream crosses', async t => {
    const sock = socketPath('sys-ufd-in')
    const reference = sha1s((await launch(`${produce} ! checksumsink`)).out)
    const receiver = new Launch(`qtisocketsrc socket=${sock} wire=unixfd ! checksumsink`, { debug: DEBUG })
    await receiver.waitFor(/no sender listens on/)
    const [sent, got] = await waitAll([new Launch(`${produce} ! unixfdsink socket-path=${sock} wait-for-connection=true`),
      receiver], 30000)
    t.is(sent.code, 0, sent.out)
    t.is(got.code, 0, got.out)
    t.deepEqual(sha1s(got.out), reference)
    const stats = stoppedStats(got.out, 'qtisocketsrc')
    t.is(stats.received, 30)
    t.is(stats.returned, 30)
    t.is(stats.copied, 0)
    t.notRegex(got.out, /WARNING|ERROR/)
  })

  test('our sink (wire=unixfd) → the system\'s unixfdsrc: every frame identical, every buffer returned, nothing copied, end-of-stream crosses', async t => {
    const sock = socketPath('sys-ufd-out')
    const reference = sha1s((await launch(`${produce} ! checksumsink`)).out)
    const sender = new Launch(`${produce} ! qtisocketsink socket=${sock} wire=unixfd wait-for-connection=true`, { debug: DEBUG })
    await sender.waitFor(/listening on/)
    const [sent, got] = await waitAll([sender, new Launch(`unixfdsrc socket-path=${sock} ! checksumsink`)], 30000)
    t.is(sent.code, 0, sent.out)
    t.is(got.code, 0, got.out)
    t.deepEqual(sha1s(got.out), reference)
    const stats = stoppedStats(sent.out, 'qtisocketsink')
    t.is(stats.sent, 30)
    t.is(stats.returned, 30)
    t.is(stats['bytes-copied'], 0)
    t.notRegex(sent.out, /WARNING|ERROR/)
  })

  test('the system\'s unixfdsink → our relay (wire=unixfd both sides) → the system\'s unixfdsrc: every frame identical, nothing copied by the relay', async t => {
    const inSock = socketPath('sys-ufd-relay-in')
    const outSock = socketPath('sys-ufd-relay-out')
    const reference = sha1s((await launch(`${produce} ! checksumsink`)).out)
    const relay = new Launch(`qtisocketsrc socket=${inSock} wire=unixfd ! qtisocketsink socket=${outSock} wire=unixfd ` +
      'wait-for-connection=true', { debug: DEBUG })
    await relay.waitFor(/listening on/)
    const receiver = new Launch(`unixfdsrc socket-path=${outSock} ! checksumsink`)
    await relay.waitFor(/receiver 1 .* joined/)
    const [sent, relayed, got] = await waitAll([new Launch(`${produce} ! unixfdsink socket-path=${inSock} wait-for-connection=true`),
      relay, receiver], 30000)
    t.is(sent.code, 0, sent.out)
    t.is(relayed.code, 0, relayed.out)
    t.is(got.code, 0, got.out)
    t.deepEqual(sha1s(got.out), reference)
    const sink = stoppedStats(relayed.out, 'qtisocketsink')
    t.is(sink.sent, 30)
    t.is(sink.returned, 30)
    t.is(sink['bytes-copied'], 0, 'the memfds received went on as they were')
    t.notRegex(relayed.out, /WARNING|ERROR/)
  })
}
