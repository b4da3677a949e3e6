// State churn: PLAYING <-> NULL again and again (test/peers/churn.py), both elements in one process
// and each in its own process coming and going independently: every change bounded, fds flat, memory
// flat. CI runs QTISOCKET_CHURN cycles (200); `scripts/soak.sh` runs 1000.
import anyTest, { ExecutionContext } from 'ava'
import { Peer, socketPath } from './helpers'

const test = anyTest.serial
const CYCLES = Number(process.env.QTISOCKET_CHURN ?? 200)
/** RSS peaks may differ by GC noise: the embedded JS heap saws by about 15 MiB over some 500 cycles,
 *  so 200 cycles catch only a leak of tens of KiB a cycle; the 1000 cycles of `npm run soak` are finer */
const RSS_SLACK_KIB = Number(process.env.QTISOCKET_CHURN_RSS_SLACK_KIB ?? 16384)

function flat(t: ExecutionContext, who: string, peer: Peer): void {
  t.regex(peer.out, /^done$/m, `${who}:\n${peer.out}`)
  const [, fd0, fd1] = peer.out.match(/^fds (\d+) (\d+)$/m)!.map(Number)
  const [, rss0, rss1] = peer.out.match(/^rss-kib (\d+) (\d+)$/m)!.map(Number)
  t.is(fd1, fd0, `${who}: open fds after the warm-up and after ${CYCLES} cycles`)
  t.true(rss1! - rss0! < RSS_SLACK_KIB, `${who}: RSS peaks ${rss0} KiB in the first half, ${rss1} KiB in the second`)
}

test(`${CYCLES} PLAYING<->NULL cycles with sender and receiver in one process, frames in every cycle`, async t => {
  const both = new Peer('churn.py', ['both', socketPath('churn'), String(CYCLES)])
  t.is(await both.exited, 0, both.out)
  flat(t, 'one process', both)
})

test(`${CYCLES} PLAYING<->NULL cycles of a sender and of a receiver in two processes, each on its own rhythm`, async t => {
  const sock = socketPath('churn2')
  const receiver = new Peer('churn.py', ['receiver', sock, String(CYCLES)])
  const sender = new Peer('churn.py', ['sender', sock, String(CYCLES)])
  const [rc, sc] = await Promise.all([receiver.exited, sender.exited])
  t.is(rc, 0, receiver.out)
  t.is(sc, 0, sender.out)
  flat(t, 'receiver', receiver)
  flat(t, 'sender', sender)
  t.true(Number(receiver.out.match(/^frames (\d+)$/m)![1]) > 0, 'frames crossed while both were up')
})
