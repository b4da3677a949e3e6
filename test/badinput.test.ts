// Bad input gets a clear GStreamer error or warning that names the socket: never a crash, a hang or
// a leaked fd.
import test from 'ava'
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import { DEBUG, launch, Launch, openFds, parseChecksums, Peer, runPeer, sleep, socketPath } from './helpers'

test('a socket in a folder that does not exist: error naming the path', async t => {
  const r = await launch('qtisocketsrc socket=/nonexistent-folder/x.sock ! fakesink', { timeoutMs: 20000 })
  t.not(r.code, 0, r.out)
  t.regex(r.out, /Cannot listen on "\/nonexistent-folder\/x\.sock": bind\(\): No such file or directory/)
})

test('a socket path under a regular file (not writable as a folder): errors naming the path on both sides', async t => {
  const rx = await launch('qtisocketsrc socket=/etc/hostname/x.sock ! fakesink', { timeoutMs: 20000 })
  t.not(rx.code, 0, rx.out)
  t.regex(rx.out, /Cannot listen on "\/etc\/hostname\/x\.sock": bind\(\): Not a directory/)
  const tx = await launch('videotestsrc num-buffers=5 ! qtisocketsink socket=/etc/hostname/x.sock', { timeoutMs: 20000 })
  t.not(tx.code, 0, tx.out)
  t.regex(tx.out, /Cannot connect to "\/etc\/hostname\/x\.sock": Not a directory/)
})

test('a path longer than a UNIX socket address: error naming the path', async t => {
  const path = `/tmp/${'x'.repeat(120)}.sock`
  const r = await launch(`qtisocketsrc socket=${path} ! fakesink`, { timeoutMs: 20000 })
  t.not(r.code, 0, r.out)
  t.true(r.out.includes(`Cannot listen on "${path}": the path is longer than the 107 bytes`), r.out)
})

test('a socket another receiver listens on is not stolen', async t => {
  const sock = socketPath('busy')
  const first = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await first.waitFor(/listening on/)
  const second = await launch(`qtisocketsrc socket=${sock} ! fakesink`, { timeoutMs: 20000 })
  t.not(second.code, 0, second.out)
  t.true(second.out.includes(`Cannot listen on "${sock}": another receiver is listening on it`), second.out)
  first.kill('SIGINT')
  t.is((await first.wait()).code, 0)
})

test('a stale socket file left by a killed receiver is replaced; a clean stop removes the file', async t => {
  const sock = socketPath('stale')
  const crashed = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await crashed.waitFor(/listening on/)
  crashed.kill('SIGKILL')
  await crashed.exited
  t.true(fs.existsSync(sock), 'kill -9 leaves the socket file behind')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = await launch(`videotestsrc num-buffers=5 ! qtisocketsink socket=${sock} wait-for-connection=true`)
  t.is(sender.code, 0, sender.out)
  const r = await receiver.wait()
  t.is(r.code, 0, r.out)
  t.false(fs.existsSync(sock), 'the receiver removed its socket file when it stopped')
})

test('a second sender waits while the receiver serves the first, and is served when the first dies', async t => {
  const sock = socketPath('second')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const first = new Launch(`videotestsrc ! video/x-raw,width=320,height=240 ! qtisocketsink socket=${sock}`, { debug: DEBUG })
  await first.waitFor(/connected to the receiver/)
  const second = new Launch(`videotestsrc num-buffers=20 ! video/x-raw,width=160,height=120 ! qtisocketsink socket=${sock} ` +
    'wait-for-connection=true', { debug: DEBUG })
  // our receiver greets it at once as busy: it waits (it does not take the receiver for the vendor's)
  await second.waitFor(/serves another sender: waiting for it/, 15000)
  t.notRegex(second.out, /connected to the receiver/)
  first.kill('SIGKILL')
  await second.waitFor(/connected to the receiver/)
  t.is((await second.wait()).code, 0)
  const r = await receiver.wait()
  t.is(r.code, 0, r.out)
  t.regex(r.out, /width=\(int\)160/, 'the second sender\'s caps reached the receiver')
})

test('no receiver: the sink warns once, naming the socket, drops, and ends normally', async t => {
  const sock = socketPath('absent')
  const r = await launch(`videotestsrc num-buffers=20 ! qtisocketsink socket=${sock} sync=false`, { debug: DEBUG })
  t.is(r.code, 0, r.out)
  t.is(r.out.match(/WARNING: from element .*No receiver is listening on "[^"]+": dropping buffers until one connects/g)?.length, 1)
  t.regex(r.out, /dropped=\(guint64\)20/)
})

test('receiver killed mid-stream: the sender warns, naming the socket, and carries on to EOS', async t => {
  const sock = socketPath('rxkill')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = new Launch(`videotestsrc num-buffers=150 ! video/x-raw,width=640,height=480 ! qtisocketsink socket=${sock}`,
    { debug: DEBUG })
  await receiver.waitFor(/caps from the sender/)
  await sleep(300)
  receiver.kill('SIGKILL')
  const s = await sender.wait()
  t.is(s.code, 0, s.out)
  t.true(s.out.includes(`The receiver on "${sock}" went away; released the`), s.out)
  t.regex(s.out, /Got EOS from element "pipeline0"/)
})

test('sender killed mid-stream: the receiver warns, naming the socket, keeps its fds in check and waits for a new sender', async t => {
  const sock = socketPath('txkill')
  // (fakesink's last-sample would keep the last buffer, and its fd, alive)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! fakesink enable-last-sample=false`, { debug: DEBUG })
  await receiver.waitFor(/New clock/)
  await sleep(300)
  const baseline = openFds(receiver.pid).length
  const sender = new Launch(`videotestsrc ! video/x-raw,width=640,height=480 ! qtisocketsink socket=${sock} ` +
    'wait-for-connection=true', { debug: DEBUG })
  await receiver.waitFor(/caps from the sender/)
  await sleep(300)
  sender.kill('SIGKILL')
  await receiver.waitFor(new RegExp(`The sender on "${sock.replace(/[.]/g, '\\.')}" disconnected without end-of-stream; waiting for a new sender`))
  await sleep(300)
  t.is(openFds(receiver.pid).length, baseline, 'every fd received from the dead sender was closed')
  // and a new sender is served
  const again = await launch(`videotestsrc num-buffers=10 ! video/x-raw,width=320,height=240 ! qtisocketsink socket=${sock} ` +
    'wait-for-connection=true', { debug: DEBUG })
  t.is(again.code, 0, again.out)
  await receiver.waitFor(/end of stream from the sender/)
  const r = await receiver.wait()
  t.is(r.code, 0, r.out)
})

test('no sender stops a receiver: another major version, garbage, a greeting cut short, a buffer first are each refused with a warning, no fd kept; the next sender is served', async t => {
  const sock = socketPath('bad-greetings')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const quoted = `The sender on "${sock}"`
  const cases: Array<[string[], string]> = [
    [['--major', '2'], `${quoted} speaks qtisocket protocol 2.0 (raw_sender.py); this receiver speaks 1.2: disconnected it; waiting for a new sender`],
    [['--greeting', 'garbage'], `${quoted} sent a malformed greeting (`],
    [['--greeting', 'short'], `${quoted} sent a malformed greeting (`],
    [['--greeting', 'short-record'], `${quoted} broke the framing (a record of another size than announced`],
    [['--greeting', 'buffer-first'], `${quoted} did not greet: disconnected it; waiting for a new sender`],
  ]
  await sleep(300)
  const baseline = openFds(receiver.pid).length
  for (const [args, warning] of cases) {
    const before = receiver.out.length
    const peer = runPeer('raw_sender.py', [sock, ...args])
    // the connection is closed: the misconfigured sender learns it (and our version, from our greeting)
    t.is(peer.stdout.trim(), 'refused', `${args.join(' ')}: ${peer.out}`)
    // this case's own warning (two cases share a prefix): after what the receiver printed before it
    for (let waited = 0; receiver.out.indexOf(warning, before) < 0 && waited < 10000; waited += 50)
      await sleep(50)
    t.true(receiver.out.indexOf(warning, before) >= 0, `${args.join(' ')}: ${receiver.out.slice(before)}`)
    await sleep(200)
    t.is(openFds(receiver.pid).length, baseline, `${args.join(' ')}: the receiver's open fds`)
  }
  t.notRegex(receiver.out, /ERROR/)
  const sender = await launch(`videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48 ! qtisocketsink socket=${sock}`)
  t.is(sender.code, 0, sender.out)
  const r = await receiver.wait(20000)
  t.is(r.code, 0, r.out)
  t.is(parseChecksums(r.out).length, 10)
})

test('a sender that connects and says nothing holds the receiver only while nobody else waits: after 5 s it is disconnected for the next', async t => {
  const sock = socketPath('silent')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const silent = new Peer('raw_sender.py', [sock, '--greeting', 'none'])
  await silent.waitFor('silent')
  const started = Date.now()
  const sender = new Launch(`videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48 ! qtisocketsink socket=${sock} ` +
    'wait-for-connection=true', { debug: DEBUG })
  await receiver.waitFor(new RegExp(`WARNING[^\\n]*The sender on "${sock.replace(/[.]/g, '\\.')}" said nothing for 5 s ` +
    'while another sender waits: disconnected it; serving the next'), 30000)
  t.true(Date.now() - started >= 3000, 'not before the grace')
  t.is(await silent.exited, 0, silent.out)
  t.regex(silent.out, /^refused$/m)
  t.is((await sender.wait(30000)).code, 0, sender.out)
  const r = await receiver.wait(20000)
  t.is(r.code, 0, r.out)
  t.is(parseChecksums(r.out).length, 10)
})

test('a receiver speaking another protocol version is refused, with an error naming both versions', async t => {
  const sock = socketPath('version-rx')
  const peer = new Peer('raw_receiver.py', [sock, '--major', '2'])
  await peer.waitFor('listening')
  const s = await launch(`videotestsrc num-buffers=10 ! qtisocketsink socket=${sock}`, { timeoutMs: 30000 })
  await peer.exited
  t.not(s.code, 0, s.out)
  t.true(s.out.includes(`The receiver on "${sock}" speaks qtisocket protocol 2.0 (raw_receiver.py); this sink speaks 1.2`),
    s.out)
  // our greeting went back anyway, so that the other side can say what it does not speak
  t.regex(peer.out, /sender greeted: identity=0x51540001 version=1\.2 software=qtisocket-ts/)
})

test('who may connect: the socket file is 0600 by default (other users are refused), perms=0666 opens it', async t => {
  // a folder every user may enter, and a connect() by the unprivileged user "nobody"
  const dir = fs.mkdtempSync('/tmp/qtisocket-perms-')
  fs.chmodSync(dir, 0o755)
  const connectAsNobody = (sock: string) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups',
    '/usr/bin/python3', '-c', 'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\n' +
    'try:\n  s.connect(sys.argv[1]); s.recv(4); print("greeted")\nexcept OSError as e:\n  print(e.strerror)', sock],
  { encoding: 'utf8', timeout: 10000 })
  for (const [perms, mode, expected] of [['', 0o600, 'Permission denied'], ['perms=0666', 0o666, 'greeted']] as const) {
    const sock = `${dir}/p${mode.toString(8)}.sock`
    const receiver = new Launch(`qtisocketsrc socket=${sock} ${perms} ! fakesink`, { debug: DEBUG })
    await receiver.waitFor(/listening on/)
    t.is(fs.statSync(sock).mode & 0o777, mode)
    const r = connectAsNobody(sock)
    t.is(r.stdout.trim(), expected, r.stdout + r.stderr)
    receiver.kill('SIGINT')
    await receiver.wait(10000)
  }
  fs.rmSync(dir, { recursive: true })
})
