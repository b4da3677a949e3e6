// A consumer that reads every frame (an encoder, an inference pre-processor) pays nothing per frame
// for the hop: the receiver keeps one long-lived, read-only mapping per cached memfd and every
// buffer's memory shares it, so steady state takes no page fault and no mmap/munmap per buffer.
import test from 'ava'
import * as fs from 'fs'
import { DEBUG, launch, Launch, Peer, socketPath } from './helpers'

/** minor page faults of a process so far (/proc/<pid>/stat, field 10) */
function minorFaults(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[7])
}

test('a receiver whose consumer reads every byte of every frame takes no page fault per frame in steady state', async t => {
  const sock = socketPath('reader')
  // checksumsink reads every byte of every frame (SHA-1)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = new Launch(`videotestsrc is-live=true num-buffers=500 pattern=ball ! ` +
    `video/x-raw,format=NV12,width=640,height=480,framerate=100/1 ! qtisocketsink socket=${sock}`)
  await receiver.waitForFrames(150, 30000)
  const frames = () => (receiver.out.match(/^\d+:\d\d:\d\d\.\d{9} [0-9a-f]{40}$/gm) ?? []).length
  const [f1, n1] = [minorFaults(receiver.pid), frames()]
  await receiver.waitForFrames(450, 30000)
  const [f2, n2] = [minorFaults(receiver.pid), frames()]
  const perFrame = (f2 - f1) / (n2 - n1)
  t.log(`${(f2 - f1)} minor faults over ${n2 - n1} frames of 450 KiB: ${perFrame.toFixed(2)} per frame`)
  // a fresh mapping per buffer would fault once per 4 KiB page touched: 113 per frame
  t.true(perFrame <= 1, `${perFrame} minor faults per frame`)
  t.is((await sender.wait(30000)).code, 0)
  t.is((await receiver.wait(30000)).code, 0)
})

test('received memory maps for reading and refuses to map for writing', async t => {
  const sock = socketPath('readonly')
  const receiver = new Peer('readonly.py', [sock, '20'])
  const sender = await launch(`videotestsrc num-buffers=20 ! video/x-raw,format=GRAY8,width=64,height=48 ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true`)
  t.is(sender.code, 0, sender.out)
  t.is(await receiver.exited, 0, receiver.out)
  const reads = receiver.out.match(/^read True [0-9a-f]{40}$/gm) ?? []
  const writes = receiver.out.match(/^write (True|False)$/gm) ?? []
  t.is(reads.length, 20, receiver.out)
  t.deepEqual(writes, Array(20).fill('write False'), receiver.out)
})
