// The fd cache (protocol 1.2): a sender sends each fd of its pool once per connection, and names it
// by an id afterwards; the receiver keeps it. Checked on the wire by a raw receiver (test/peers/
// raw_receiver.py) greeting as 1.2 and as 1.1 (which must get every fd with every message), and end
// to end through a relay.
import test from 'ava'
import { launch, Peer, socketPath } from './helpers'

const FRAMES = 40

interface Line { fds: number, refs: number[], fdIds: number[] }

function parse(lines: string[]): Line[] {
  return lines.map(l => {
    const m = l.match(/fds=(\d+) .*refs=\[([\d, ]*)\] fdids=\[([\d, ]*)\]/)
    if (!m)
      throw new Error(`unexpected line ${l}`)
    const list = (s: string) => s ? s.split(',').map(Number) : []
    return { fds: Number(m[1]), refs: list(m[2]!), fdIds: list(m[3]!) }
  })
}

async function send(minor: number): Promise<Line[]> {
  const sock = socketPath(`fdcache-${minor}`)
  const peer = new Peer('raw_receiver.py', [sock, '--minor', String(minor), '--buffers', String(FRAMES), '--ids',
    '--release'])
  await peer.waitFor('listening')
  const s = await launch(`videotestsrc num-buffers=${FRAMES} ! video/x-raw,format=GRAY8,width=64,height=64 ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true sync=false`, { timeoutMs: 30000 })
  if (await peer.exited !== 0 || s.code !== 0)
    throw new Error(`${peer.out}\n${s.out}`)
  return parse(peer.lines('buffer '))
}

test('to a 1.2 receiver, each memfd of the pool goes once and is named by its id afterwards', async t => {
  const lines = await send(2)
  t.is(lines.length, FRAMES)
  const known = new Set<number>()
  for (const [i, l] of lines.entries()) {
    t.is(l.refs.length, 1)
    const id = l.refs[0]!
    if (known.has(id)) {
      t.deepEqual([l.fds, l.fdIds], [0, []], `buffer ${i}: id ${id} is cached, its fd does not go again`)
    } else {
      t.deepEqual([l.fds, l.fdIds], [1, [id]], `buffer ${i}: the fd goes with its new id ${id}`)
      known.add(id)
    }
  }
  // the pool grows to the peak of buffers in flight (at most max-in-flight + 2), no further
  t.true(known.size <= 18, `${known.size} fds sent for ${FRAMES} buffers`)
})

test('to a 1.1 receiver, which knows no cache, every message carries its fd', async t => {
  const lines = await send(1)
  t.is(lines.length, FRAMES)
  t.deepEqual(lines, Array(FRAMES).fill({ fds: 1, refs: [0], fdIds: [] }))
})
