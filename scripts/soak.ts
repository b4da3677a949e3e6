// npm run soak: long runs between two gst-launch-1.0 processes, watching both for growth.
//   1. --small small buffers (GRAY8 8x8, 64 bytes; default 1,000,000), as fast as they go;
//   2. --seconds seconds of 1080p I420 frames (default 600), as fast as they go.
// For each phase it samples each process's open fds and RSS once a second from the end of the warm-up
// (--warmup seconds, default 60) to the end of the stream, and compares the highest values of the
// first third of the samples with those of the last third: open fds (the sender's pool may still add
// a buffer or two at a rare peak of buffers in flight: --fd-slack, default 2) and RSS (the embedded
// JS heap saws between about 25 and 60 MiB for its first 40 s at 1080p before it levels: compare
// peaks after the warm-up, --rss-slack-kib, default 8192). Exits 1 if a phase fails or is not flat.
// Usage: npm run soak [-- --small N --seconds S]   (the test suite runs a short version)
import * as fs from 'fs'
import { Launch, socketPath } from '../test/helpers'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const SMALL = arg('small', 1_000_000)
const SECONDS = arg('seconds', 600)
const WARMUP = arg('warmup', 60)
const RSS_SLACK_KIB = arg('rss-slack-kib', 8192)
const FD_SLACK = arg('fd-slack', 2)

interface Sample { t: number, fds: number, rssKib: number }

function sample(pid: number, t: number): Sample | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
    return { t, fds: fs.readdirSync(`/proc/${pid}/fd`).length, rssKib: Number(status.match(/VmRSS:\s+(\d+)/)![1]) }
  } catch {
    return undefined // gone
  }
}

type Watch = Sample[]

/** samples a process once a second from `warmup` seconds on, until its stream ends (end-of-stream or
 *  interrupt: after that it is letting go of its buffers, which is not the steady state we compare) */
function watch(l: Launch, warmup: number): Watch {
  const w: Watch = []
  const started = Date.now()
  const timer = setInterval(() => {
    const t = (Date.now() - started) / 1000
    if (t < warmup || /handling interrupt|Got EOS/.test(l.out))
      return
    const s = sample(l.pid, t)
    if (s)
      w.push(s)
  }, 1000)
  void l.exited.then(() => clearInterval(timer))
  return w
}

function report(phase: string, who: string, w: Watch): boolean {
  if (w.length < 3) {
    console.log(`${phase} ${who}: ran too short to be sampled 3 times after the ${WARMUP} s warm-up`)
    return false
  }
  const third = Math.floor(w.length / 3)
  const [first, last] = [w.slice(0, third), w.slice(-third)]
  const fds = (ss: Sample[]) => Math.max(...ss.map(s => s.fds))
  const rss = (ss: Sample[]) => Math.max(...ss.map(s => s.rssKib))
  const flat = fds(last) - fds(first) <= FD_SLACK && rss(last) - rss(first) < RSS_SLACK_KIB
  console.log(`${phase} ${who}: fds ${fds(first)} -> ${fds(last)}, RSS ${rss(first)} -> ${rss(last)} KiB ` +
    `(${w.length} samples, t=${w[0]!.t.toFixed(0)}..${w[w.length - 1]!.t.toFixed(0)} s): ${flat ? 'flat' : 'NOT FLAT'}`)
  return flat
}

async function phase(name: string, sender: string, receiver: string, seconds?: number): Promise<boolean> {
  const sock = socketPath('soak')
  const rx = new Launch(`qtisocketsrc socket=${sock} ! ${receiver}`, { debug: 'qtisocketsrc:4' })
  await rx.waitFor(/listening on/)
  const tx = new Launch(`${sender} ! qtisocketsink socket=${sock} sync=false wait-for-connection=true`,
    { debug: 'qtisocketsink:4', args: ['-e'] })
  const wtx = watch(tx, WARMUP)
  const wrx = watch(rx, WARMUP)
  const started = Date.now()
  if (seconds !== undefined)
    setTimeout(() => tx.kill('SIGINT'), seconds * 1000) // -e: end-of-stream, then both end
  const [s, r] = await Promise.all([tx.wait(3_600_000), rx.wait(3_600_000)])
  const stats = s.out.match(/qtisocketsink-stats, ([^;]*);/)?.[1] ?? 'no stats'
  console.log(`${name}: ${((Date.now() - started) / 1000).toFixed(1)} s; sender exit ${s.code}, receiver exit ${r.code}; ${stats}`)
  const ok = s.code === 0 && r.code === 0
  if (!ok)
    console.log(`--- sender:\n${s.out.slice(-3000)}\n--- receiver:\n${r.out.slice(-3000)}`)
  return [report(name, 'sender', wtx), report(name, 'receiver', wrx)].every(Boolean) && ok
}

async function main(): Promise<void> {
  const small = await phase(`${SMALL} small buffers`,
    `videotestsrc num-buffers=${SMALL} ! video/x-raw,format=GRAY8,width=8,height=8,framerate=1000/1`, 'fakesink sync=false')
  const large = await phase(`${SECONDS} s of 1080p`,
    'videotestsrc ! video/x-raw,format=I420,width=1920,height=1080,framerate=60/1', 'fakesink sync=false', SECONDS)
  console.log(small && large ? 'soak: flat' : 'soak: FAILED')
  process.exit(small && large ? 0 : 1)
}

void main()
