// GObject-introspection programs: Python (python3-gi) builds its pipelines element by element with
// qtisocketsink and qtisocketsrc loaded through the shim, in two processes; frames cross intact, and
// the connection is announced as an element message and a signal.
import test from 'ava'
import { DEBUG, launch, Launch, parseChecksums, Peer, socketPath } from './helpers'

test('a Python sender and a Python receiver, two processes: frames intact, caps, stats, client-connected', async t => {
  const sock = socketPath('gi-pair')
  const reference = await launch('videotestsrc num-buffers=10 pattern=ball ! ' +
    'video/x-raw,format=NV12,width=320,height=240,framerate=30/1 ! checksumsink')
  const receiver = new Peer('gi_pair.py', ['receiver', sock])
  const sender = new Peer('gi_pair.py', ['sender', sock, '10'])
  t.is(await sender.exited, 0, sender.out)
  t.is(await receiver.exited, 0, receiver.out)
  const got = receiver.out.split('\n').filter(l => /^\d+ [0-9a-f]{40}$/.test(l)).map(l => l.split(' ')[1])
  t.deepEqual(got, parseChecksums(reference.out).map(c => c.sha1))
  t.regex(receiver.out, /^caps video\/x-raw, format=\(string\)NV12, width=\(int\)320, height=\(int\)240/m)
  t.regex(receiver.out, /^stats qtisocketsrc-stats, received=\(guint64\)10,/m)
  t.regex(sender.out, /^stats qtisocketsink-stats, sent=\(guint64\)10,/m)
  t.regex(receiver.out, /^message GstQtiSocketConnected, socket=\(string\)\S+, peer=\(string\)"qtisocket-ts\\ 1\.2";$/m)
  t.regex(receiver.out, /^signal client-connected qtisocket-ts 1\.2$/m)
})

test('client-connected and client-disconnected on the bus: the sink says who it reached and why it lost it', async t => {
  const sock = socketPath('notify')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG, args: ['-m'] })
  await receiver.waitFor(/listening on/)
  const sender = new Launch(`videotestsrc is-live=true ! video/x-raw,width=64,height=48 ! qtisocketsink socket=${sock}`,
    { args: ['-m'] })
  await sender.waitFor(/GstQtiSocketConnected/)
  await receiver.waitFor(/GstQtiSocketConnected/)
  receiver.kill('SIGKILL')
  await sender.waitFor(/GstQtiSocketDisconnected/)
  sender.kill('SIGINT')
  const s = await sender.wait(10000)
  t.regex(s.out, /\(element\): GstQtiSocketConnected, socket=\(string\)\S+, peer=\(string\)"qtisocket-ts\\ 1\.2";/)
  t.regex(s.out, /\(element\): GstQtiSocketDisconnected, socket=\(string\)\S+, reason=\(string\)"the\\ receiver\\ went\\ away", held=\(uint\)\d+;/)
  t.is((s.out.match(/GstQtiSocketDisconnected/g) ?? []).length, 1, 'announced once')
})
