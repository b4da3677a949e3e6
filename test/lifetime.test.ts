// The sender keeps every buffer until the receiver returns it, and releases all of them at once
// when the receiver goes away.
import test from 'ava'
import { spawn } from 'child_process'
import * as fs from 'fs'
import * as path from 'path'
import { DEBUG, Launch, sleep, socketPath, stoppedStats } from './helpers'

test('the sender holds what the receiver holds (max-in-flight), and gets all of it back when the receiver dies', async t => {
  const sock = socketPath('lifetime')
  // the receiver keeps everything it gets in a queue that its slow sink drains at 1 buffer/s
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! ` +
    'identity sleep-time=1000000 ! fakesink', { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  // a live producer: the sender is still running when the receiver dies
  const sender = new Launch('videotestsrc is-live=true ! video/x-raw,format=I420,width=640,height=480,framerate=30/1 ! ' +
    `qtisocketsink socket=${sock} sync=false max-in-flight=6`,
  { debug: `${DEBUG},qtisocketsink:6` })
  // the sender stops at 6 buffers in flight: none comes back while the receiver holds them
  await sender.waitFor(/sent buffer 6 with/)
  await new Promise(resolve => setTimeout(resolve, 700))
  t.notRegex(sender.out, /sent buffer 8 with/, 'the sender waits for buffers to come back')
  receiver.kill('SIGKILL')
  const released = await sender.waitFor(/receiver gone: released the (\d+) buffers it held/)
  t.true(Number(released[1]) >= 5 && Number(released[1]) <= 6, released[0])
  await sender.waitFor(/went away; released the \d+ buffers it held/)
  await sender.waitFor(/dropped buffer/)
  sender.kill('SIGINT')
  const s = await sender.wait()
  t.is(s.code, 0, s.out)
  const stats = stoppedStats(s.out, 'qtisocketsink')
  t.is(stats.sent, stats.returned, 'every buffer sent was released')
  t.is(stats['in-flight'], 0)
})

// A test worker that ava ends (a timeout, a crash) runs no exit hook: the processes its tests started
// must go with it all the same (helpers' diesWithUs: PR_SET_PDEATHSIG through setpriv).
test('a test worker killed outright takes its gst-launch and peer processes with it', async t => {
  // quiet ones (gst-launch -q, a peer that has said all it says): no write to the dead worker's pipe
  // ends them with SIGPIPE
  const script = `const h = require(${JSON.stringify(path.join(__dirname, 'helpers.js'))})
    const l = new h.Launch('videotestsrc is-live=true ! fakesink', { args: ['-q'] })
    const p = new h.Peer('raw_receiver.py', [h.socketPath('orphan')])
    p.waitFor('listening').then(() => console.log(l.pid, p.child.pid))
    setInterval(() => {}, 1000)`
  const worker = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  const pids = await new Promise<number[]>(resolve => worker.stdout!.once('data', d => resolve(String(d).trim().split(' ').map(Number))))
  t.is(pids.length, 2)
  for (const pid of pids)
    t.true(alive(pid), `${pid} runs while its worker does`)
  worker.kill('SIGKILL')
  const deadline = Date.now() + 5000
  while (pids.some(alive) && Date.now() < deadline)
    await sleep(50)
  t.deepEqual(pids.filter(alive), [], 'left behind')
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').match(/\) Z /)
  } catch {
    return false
  }
}
