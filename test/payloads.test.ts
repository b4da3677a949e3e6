// Tensors, text, regions of interest, empty buffers: N tensor memories arrive as N memories with their
// exact sizes and bytes; text arrives exact at any length (the vendor truncates at 1024 bytes), small
// text inline in the message and large text through a memfd; GstVideoRegionOfInterestMeta survives
// with its parameters; a buffer with no memory, or an empty one, arrives as it was.
import test from 'ava'
import * as crypto from 'crypto'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { DEBUG, launch, Launch, Peer, runPeer, socketPath, stoppedStats, waitAll } from './helpers'

test('neural-network/tensors: a buffer of 3 tensor memories arrives as 3 memories, sizes and bytes exact, caps in-band', t => {
  const r = runPeer('tensors.py', [socketPath('tensors'), '4'])
  t.is(r.status, 0, r.out)
  const sent = r.stdout.split('\n').filter(l => l.startsWith('sent ')).map(l => l.slice(5))
  const got = r.stdout.split('\n').filter(l => l.startsWith('got ')).map(l => l.slice(4))
  t.is(sent.length, 4)
  t.deepEqual(got, sent)
  t.true(sent.every(l => /^150528:\w+ 4004:\w+ 7:\w+$/.test(l)))
  t.regex(r.stdout, /caps neural-network\/tensors, format=\(string\)static, num_tensors=\(int\)3, dimensions=\(string\)"3:224:224:1\\,1001:1\\,7:1"/)
})

const TEXT_CASES = [
  ['a few bytes, inline', 37, 16, 'inline'],
  ['1 KiB and more, inline', 5000, 1500, 'inline'],
  ['2 MiB, through a memfd', 2 << 20, 1 << 20, 'memfd'],
] as const
for (const [what, size, blocksize, path_] of TEXT_CASES) {
  test(`text/x-raw: ${what}, arrives exact between two processes`, async t => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-text-'))
    const input = path.join(dir, 'in.txt')
    const output = path.join(dir, 'out.txt')
    const text = Array.from({ length: size }, (_, i) => 'abcdefghijklmnopqrstuvwxyzé€'[i % 28]).join('').slice(0, size)
    fs.writeFileSync(input, text)
    const sock = socketPath('text')
    const receiver = new Launch(`qtisocketsrc socket=${sock} ! filesink location=${output}`, { debug: DEBUG })
    await receiver.waitFor(/listening on/)
    const [s, r] = await waitAll([new Launch(`filesrc location=${input} blocksize=${blocksize} ! ` +
      `text/x-raw,format=utf8 ! qtisocketsink socket=${sock} wait-for-connection=true sync=false`, { debug: DEBUG }),
    receiver], 30000)
    t.is(s.code, 0, s.out)
    t.is(r.code, 0, r.out)
    const hash = (f: string) => crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex')
    t.is(fs.statSync(output).size, fs.statSync(input).size)
    t.is(hash(output), hash(input))
    const bytes = fs.statSync(input).size
    const buffers = Math.ceil(bytes / blocksize)
    const stats = stoppedStats(s.out, 'qtisocketsink')
    t.is(stats.sent, buffers)
    t.is(stats.returned, buffers)
    t.is(stats.inlined, path_ === 'inline' ? buffers : 0)
    t.is(stats.copied, path_ === 'memfd' ? buffers : 0)
    t.is(stats['bytes-copied'], bytes, 'each byte copied once: into the message or into a memfd')
    fs.rmSync(dir, { recursive: true })
  })
}

test('regions of interest (type, box, id, parent, parameters), a buffer without memory and an empty memory arrive as sent', t => {
  const r = runPeer('metas.py', [socketPath('metas')])
  t.is(r.status, 0, r.out)
  const lines = r.stdout.trimEnd().split('\n')
  t.is(lines.length, 5, r.out)
  // the first frame left before the sender was PLAYING: placed at the instant it was sent
  t.regex(lines[0]!, /^\d+ mem=1 size=12288 flags=40 7$/)
  t.is(lines[1], '  roi id=1 parent=-1 type=face box=10,5,30x40 detection, label=(string)face, ' +
    'confidence=(double)0.93000000000000005; tracking, track-id=(uint)7;')
  t.is(lines[2], '  roi id=2 parent=1 type=eye box=15,12,6x4 ')
  t.is(lines[3], '33333333 mem=0 size=0 flags=800 -', 'no memory, GAP flag')
  t.is(lines[4], '66666666 mem=1 size=0 flags=4000 -', 'one memory of 0 bytes')
})

for (const minor of [0, 1]) {
  test(`small text to a receiver speaking protocol 1.${minor}: ${minor ? 'inline, no fd' : 'through a memfd, as 1.0 knows no inline memory'}`, async t => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-text-'))
    const input = path.join(dir, 'in.txt')
    fs.writeFileSync(input, 'x'.repeat(37))
    const sock = socketPath('text-minor')
    const peer = new Peer('raw_receiver.py', [sock, '--minor', String(minor), '--buffers', '3'])
    await peer.waitFor('listening')
    const s = await launch(`filesrc location=${input} blocksize=16 ! text/x-raw,format=utf8 ! ` +
      `qtisocketsink socket=${sock} wait-for-connection=true sync=false`, { timeoutMs: 30000 })
    t.is(await peer.exited, 0, peer.out)
    t.is(s.code, 0, s.out)
    t.deepEqual(peer.lines('buffer '), minor
      ? ['buffer kinds=[3] fds=0 data=16', 'buffer kinds=[3] fds=0 data=16', 'buffer kinds=[3] fds=0 data=5']
      : ['buffer kinds=[1] fds=1 data=0', 'buffer kinds=[1] fds=1 data=0', 'buffer kinds=[1] fds=1 data=0'])
    fs.rmSync(dir, { recursive: true })
  })
}
