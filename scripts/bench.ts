// npm run bench: qtisocketsink -> qtisocketsrc beside shmsink -> shmsrc, two gst-launch-1.0 processes,
// the same frames from videotestsrc, sync=false. The rate is measured where the data arrives: the
// receiver ends in fpsdisplaysink (video-sink=fakesink), whose running average counts from the first
// buffer received, so neither process's start-up (the embedded Node's boot included) is in it.
// The cases are interleaved and repeated; the median is reported.
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { Launch, sleep, socketPath } from '../test/helpers'

interface Case { name: string, unit: string, caps: string, n: number }
const cases: Case[] = [
  { name: '64-byte buffers', unit: 'buffers/s', caps: 'video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1', n: 40000 },
  { name: '1080p I420 frames', unit: 'frames/s', caps: 'video/x-raw,format=I420,width=1920,height=1080,framerate=30/1', n: 1200 },
]
const REPS = Number(process.env.REPS ?? 3)
const METER = 'fpsdisplaysink video-sink=fakesink text-overlay=false fps-update-interval=250 sync=false'

interface Result { rate: number, received: number }

/** the last "rendered: N, ..., average: X" that fpsdisplaysink printed (gst-launch -v) */
function meter(out: string): Result {
  const all = [...out.matchAll(/rendered: (\d+), dropped: \d+, current: [\d.]+, average: ([\d.]+)/g)]
  const last = all[all.length - 1]
  return last ? { received: Number(last[1]), rate: Number(last[2]) } : { received: 0, rate: NaN }
}

async function qtisocket(c: Case): Promise<Result> {
  const sock = socketPath('bench')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! ${METER}`, { debug: 'qtisocketsrc:4', args: ['-v'] })
  await receiver.waitFor(/listening on/)
  const sender = new Launch(`videotestsrc num-buffers=${c.n} ! ${c.caps} ! qtisocketsink socket=${sock} sync=false`)
  const r = await receiver.wait(120000)
  await sender.wait(20000)
  if (r.code !== 0)
    throw new Error(`receiver failed:\n${r.out}`)
  return meter(r.out)
}

async function shm(c: Case): Promise<Result> {
  const sock = socketPath('bench-shm')
  const sender = new Launch(`videotestsrc num-buffers=${c.n} ! ${c.caps} ! shmsink socket-path=${sock} ` +
    'wait-for-connection=true shm-size=100000000 sync=false')
  for (let i = 0; i < 300 && !fs.existsSync(sock); i++)
    await sleep(10)
  const receiver = new Launch(`shmsrc socket-path=${sock} is-live=true ! ${c.caps} ! ${METER}`, { args: ['-v'] })
  // shm carries no end-of-stream: stop the receiver once the sender is done and the meter has settled
  await sender.wait(30000).catch(() => sender.kill('SIGKILL'))
  await sleep(600)
  receiver.kill('SIGINT')
  const r = await receiver.wait(10000)
  return meter(r.out)
}

const SHM_NOTE = `shmsink→shmsrc on GStreamer 1.22 stalls with many small buffers: by hand, \`videotestsrc num-buffers=20000 !
video/x-raw,format=GRAY8,width=8,height=8 ! shmsink\` into \`shmsrc ! fakesink num-buffers=20000\` delivered a few
hundred to a few thousand buffers, then nothing (seen with and without \`shm-size\`, \`do-timestamp\`,
\`buffer-time\`). So there is no shm figure for 64-byte buffers.
`

const median = (xs: number[]) => {
  const ok = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return ok.length ? ok[Math.floor(ok.length / 2)]! : NaN
}

async function main(): Promise<void> {
  const results: Record<string, Record<string, Result[]>> = {}
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of cases) {
      for (const [name, run] of [['qtisocket', qtisocket], ['shm', shm]] as const) {
        const r = await run(c)
        ;((results[c.name] ??= {})[name] ??= []).push(r)
        process.stderr.write(`  rep ${rep + 1} ${c.name} ${name}: ${Math.round(r.rate)} ${c.unit}, ` +
          `${r.received} of ${c.n} received\n`)
      }
    }
  }
  const show = (c: Case, rs: Result[]) => {
    // a run that did not deliver most of its buffers stalled: its rate is not a throughput (the meter's
    // last report lags the end by up to one 250 ms interval, so "most" is not "all")
    const complete = rs.filter(r => r.received >= c.n / 2)
    const stalled = rs.length - complete.length
    const rate = median(complete.map(r => r.rate))
    const most = Math.max(...rs.map(r => r.received))
    const note = stalled ? ` (${stalled} of ${rs.length} runs stalled, ${most ? `at most ${most} of ${c.n} arrived` :
      'too few arrived for one 250 ms meter report'})` : ''
    return { rate, text: Number.isNaN(rate) ? `stalled in every run${note}` : `${Math.round(rate)} ${c.unit}${note}` }
  }
  const lines = ['| case | qtisocketsink→qtisocketsrc | shmsink→shmsrc | ratio |', '|---|---|---|---|']
  for (const c of cases) {
    const q = show(c, results[c.name]!.qtisocket!)
    const s = show(c, results[c.name]!.shm!)
    const ratio = Number.isNaN(q.rate / s.rate) ? '-' : (q.rate / s.rate).toFixed(2)
    lines.push(`| ${c.name} | ${q.text} | ${s.text} | ${ratio} |`)
  }
  const title = `two processes, sync=false, rate seen by the receiver, median of ${REPS}`
  process.stdout.write(`${title}\n${lines.join('\n')}\n`)
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.release()}`
  fs.writeFileSync(path.join(__dirname, '..', '..', 'docs', 'bench.md'), `# Benchmark\n\nMade by \`npm run bench\` ` +
    `(scripts/bench.ts) on ${new Date().toISOString().slice(0, 10)}, ${machine}: ${title}.\n\n${lines.join('\n')}\n\n` +
    SHM_NOTE)
}

main().catch(e => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`)
  process.exit(1)
})
