// npm run bench: qtisocketsink -> qtisocketsrc beside shmsink -> shmsrc, and the baselines, all with
// videotestsrc frames and sync=false:
//   alone      the producer into its meter, one process (its own drawing cost)
//   queue      the producer through an in-process queue
//   qtisocket  two processes, producer ! qtisocketsink -> qtisocketsrc ! meter
//   shm        two processes, producer ! shmsink -> shmsrc ! meter
//   qtisocket relay / shm relay  three processes: producer -> relay (src ! sink, the same buffers
//              forwarded) -> consumer, at 1080p and 4K
// The rate is measured where the data arrives: the last process ends in fpsdisplaysink
// (video-sink=fakesink), whose running average counts from the first buffer received, so start-up (the
// embedded Node's boot included) is not in it. CPU time and peak RSS of every process come from
// /proc/<pid>/stat sampled while the buffers flow (start-up and tear-down left out: the time until the
// first buffer is another figure) and /usr/bin/time; CPU per buffer is the sum over the processes
// divided by the buffers counted in that window, and the transport's share is that minus the
// producer's own ("alone") per buffer. Bytes copied per frame are
// what each qtisocketsink counted (stats); shm counts none. The cases are interleaved and repeated
// (REPS, default 3); the median is reported. It writes docs/bench.md and docs/bench.png (gnuplot) and
// prints the table. Then users' shapes (tee fan-out, a reading consumer, videorate, inline text, ROI metas),
// each beside shm, and beside upstream's unixfd and the vendor's C elements where the machine has them
// (BENCH_UNIXFD_PREFIX, BENCH_VENDOR_PLUGINS: peersNote below).
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { allStoppedStats, Launch, PLUGIN_PATH, ROOT, sleep, socketPath, stoppedStats } from '../test/helpers'

interface Case { name: string, unit: string, caps: string, n: number, chain: boolean }
const FORMATS: Case[] = [
  { name: '64-byte buffers', unit: 'buffers/s', caps: 'video/x-raw,format=GRAY8,width=8,height=8,framerate=30/1', n: 300000, chain: false },
  { name: '720p NV12', unit: 'frames/s', caps: 'video/x-raw,format=NV12,width=1280,height=720,framerate=30/1', n: 2000, chain: false },
  { name: '1080p NV12', unit: 'frames/s', caps: 'video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1', n: 1200, chain: true },
  { name: '4K NV12', unit: 'frames/s', caps: 'video/x-raw,format=NV12,width=3840,height=2160,framerate=30/1', n: 300, chain: true },
]
const REPS = Number(process.env.REPS ?? 3)
const METER = 'fpsdisplaysink video-sink=fakesink text-overlay=false fps-update-interval=250 sync=false'
const TIME = ['/usr/bin/time', '-f', 'QTISOCKET_TIME %U %S %M']
const SHM_SIZE = 'shm-size=400000000'

type Mode = 'alone' | 'queue' | 'qtisocket' | 'shm' | 'qtisocket relay' | 'shm relay'
const MODES: Mode[] = ['alone', 'queue', 'qtisocket', 'shm', 'qtisocket relay', 'shm relay']

interface Run {
  rate: number
  received: number
  /** CPU seconds per buffer of every process together, in the steady state (sampled) */
  cpuPerBuffer: number
  /** CPU seconds of every process from start to exit (/usr/bin/time) */
  cpuTotal: number
  /** peak RSS of each process, MiB */
  rss: number[]
  /** bytes each qtisocketsink copied per buffer sent, by hop */
  copied: number[]
  /** peak open fds of each process while the buffers flow */
  fds: number[]
  /** per buffer: fds each qtisocketsink passed, by hop; JS calls of all our elements together */
  fdsPassed: number[]
  jsCalls: number
  /** CPU seconds per buffer of each process apart, in the steady state */
  byProcess: number[]
  /** minor page faults per buffer of the reader process (the receiver) in the steady state */
  faults: number
  /** summed over every qtisocketsink of every process: sent, bytes copied, fds sent; and every JS call */
  totals: { sent: number, bytesCopied: number, fdsSent: number, jsCalls: number }
}

/** the last "rendered: N, ..., average: X" that fpsdisplaysink printed (gst-launch -v) */
function meter(out: string): { received: number, rate: number } {
  const all = [...out.matchAll(/rendered: (\d+), dropped: \d+, current: [\d.]+, average: ([\d.]+)/g)]
  const last = all[all.length - 1]
  return last ? { received: Number(last[1]), rate: Number(last[2]) } : { received: 0, rate: NaN }
}

function usage(out: string): { cpu: number, rss: number } {
  const m = out.match(/QTISOCKET_TIME ([\d.]+) ([\d.]+) (\d+)/)
  return m ? { cpu: Number(m[1]) + Number(m[2]), rss: Number(m[3]) / 1024 } : { cpu: NaN, rss: NaN }
}

/** a counter from the stats a qtisocket element logs when it stops (NaN without them: shm) */
function stat(out: string, factory: 'qtisocketsink' | 'qtisocketsrc', name: string): number {
  try {
    return stoppedStats(out, factory)[name] ?? NaN
  } catch {
    return NaN
  }
}

function copiedPerBuffer(out: string): number {
  return stat(out, 'qtisocketsink', 'bytes-copied') / Math.max(stat(out, 'qtisocketsink', 'sent'), 1)
}

/** the gst-launch-1.0 that /usr/bin/time runs, if it still does */
function gstPid(l: Launch): number | undefined {
  try {
    return Number(fs.readFileSync(`/proc/${l.pid}/task/${l.pid}/children`, 'utf8').trim().split(/\s+/)[0]) || undefined
  } catch {
    return undefined
  }
}

/** signals that gst-launch-1.0 (time itself ignores SIGINT) */
function signal(l: Launch, sig: NodeJS.Signals): void {
  const pid = gstPid(l)
  try {
    if (pid)
      process.kill(pid, sig)
  } catch {
    // gone meanwhile
  }
}

const launch = (pipeline: string, opts: { debug?: string, args?: string[] } = {}) =>
  new Launch(pipeline, { ...opts, wrap: TIME })

const TICK = 1 / 100 // USER_HZ

/** user + system CPU seconds of a process so far */
function cpuOf(pid: number | undefined): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK
  } catch {
    return NaN
  }
}

/** minor page faults and user + system CPU seconds of a process so far (/proc/<pid>/stat) */
function faultsOf(pid: number | undefined): number {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[7])
  } catch {
    return NaN
  }
}

interface Sampled { cpu: number, buffers: number, fds: number[], byProcess: number[], faults: number }

/** Samples the CPU of every process each time the meter reports a new count (polled every 25 ms): the
 *  first report and the last give the steady-state CPU per buffer, without start-up (the embedded
 *  Node's boot) or tear-down; the same for each process apart, and for the minor page faults of the
 *  reader (the process whose consumer reads the frames; the last one by default). */
function steady(launches: Launch[], last: Launch, reader = last): () => Sampled {
  type Sample = { cpus: number[], n: number, faults: number }
  let first: Sample | undefined
  let latest: Sample | undefined
  const fds = launches.map(() => 0)
  const timer = setInterval(() => {
    const n = meter(last.out).received
    if (!n || (latest && n === latest.n))
      return
    launches.forEach((l, i) => {
      try {
        fds[i] = Math.max(fds[i]!, fs.readdirSync(`/proc/${gstPid(l)}/fd`).length)
      } catch {
        // gone meanwhile
      }
    })
    const cpus = launches.map(l => cpuOf(gstPid(l)))
    if (cpus.some(Number.isNaN))
      return
    const sample = { cpus, n, faults: faultsOf(gstPid(reader)) }
    first ??= sample
    latest = sample
  }, 25)
  return () => {
    clearInterval(timer)
    if (!first || !latest || latest.n <= first.n)
      return { cpu: NaN, buffers: 0, fds, byProcess: launches.map(() => NaN), faults: NaN }
    const buffers = latest.n - first.n
    const byProcess = latest.cpus.map((c, i) => (c - first!.cpus[i]!) / buffers)
    return { cpu: byProcess.reduce((a, b) => a + b, 0) * buffers, buffers, fds, byProcess,
      faults: (latest.faults - first.faults) / buffers }
  }
}

/** a counter summed over every element of that kind whose stats a process logged at stop */
function sumStat(outs: string[], factory: 'qtisocketsink' | 'qtisocketsrc', name: string): number {
  return outs.flatMap(out => allStoppedStats(out, factory)).reduce((sum, stats) => sum + (stats[name] ?? 0), 0)
}

async function finish(launches: Launch[], last: Launch, shm: boolean, reader = last): Promise<Run> {
  const sampled = steady(launches, last, reader)
  if (shm) {
    // shm carries no end-of-stream (and shmsink does not stop while a client holds its memory): once
    // the meter has stopped counting for 750 ms, interrupt every process (each then prints its times)
    const deadline = Date.now() + 120000
    for (let seen = -1, still = 0; still < 3 && Date.now() < deadline;) {
      await sleep(250)
      const now = meter(last.out).received
      still = now === seen && now > 0 ? still + 1 : 0
      seen = now
    }
    for (const l of launches)
      signal(l, 'SIGINT')
  }
  const exits = await Promise.all(launches.map(l => l.wait(120000).catch(() => {
    signal(l, 'SIGKILL')
    return l.exited
  })))
  const u = exits.map(e => usage(e.out))
  const m = meter(last.out)
  const st = sampled()
  const sent = exits.map(e => stat(e.out, 'qtisocketsink', 'sent')).filter(x => !Number.isNaN(x))
  const js = exits.flatMap(e => [stat(e.out, 'qtisocketsink', 'js-calls'), stat(e.out, 'qtisocketsrc', 'js-calls')])
    .filter(x => !Number.isNaN(x))
  return { ...m, cpuPerBuffer: st.cpu / st.buffers, cpuTotal: u.reduce((s, x) => s + x.cpu, 0), rss: u.map(x => x.rss),
    copied: shm ? [] : exits.map(e => copiedPerBuffer(e.out)).filter(x => !Number.isNaN(x)), fds: st.fds,
    fdsPassed: exits.map(e => stat(e.out, 'qtisocketsink', 'fds-sent') / stat(e.out, 'qtisocketsink', 'sent'))
      .filter(x => !Number.isNaN(x)),
    jsCalls: shm || !sent.length ? NaN : js.reduce((a, b) => a + b, 0) / sent[0]!,
    byProcess: st.byProcess, faults: st.faults,
    totals: { sent: sumStat(exits.map(e => e.out), 'qtisocketsink', 'sent'),
      bytesCopied: sumStat(exits.map(e => e.out), 'qtisocketsink', 'bytes-copied'),
      fdsSent: sumStat(exits.map(e => e.out), 'qtisocketsink', 'fds-sent'),
      jsCalls: sumStat(exits.map(e => e.out), 'qtisocketsink', 'js-calls') +
        sumStat(exits.map(e => e.out), 'qtisocketsrc', 'js-calls') } }
}

async function run(c: Case, mode: Mode): Promise<Run> {
  const produce = `videotestsrc num-buffers=${c.n} ! ${c.caps}`
  const v = { args: ['-v'] }
  switch (mode) {
    case 'alone':
    case 'queue': {
      const l = launch(`${produce} ! ${mode === 'queue' ? 'queue ! ' : ''}${METER}`, v)
      return finish([l], l, false)
    }
    case 'qtisocket': {
      const sock = socketPath('bench')
      const rx = launch(`qtisocketsrc socket=${sock} ! ${METER}`, { debug: 'qtisocketsrc:4', ...v })
      await rx.waitFor(/listening on/)
      const tx = launch(`${produce} ! qtisocketsink socket=${sock} sync=false wait-for-connection=true`,
        { debug: 'qtisocketsink:4' })
      return finish([tx, rx], rx, false)
    }
    case 'qtisocket relay': {
      const [a, b] = [socketPath('bench-a'), socketPath('bench-b')]
      const rx = launch(`qtisocketsrc socket=${b} ! ${METER}`, { debug: 'qtisocketsrc:4', ...v })
      const relay = launch(`qtisocketsrc socket=${a} ! qtisocketsink socket=${b} sync=false wait-for-connection=true`,
        { debug: 'qtisocketsrc:4,qtisocketsink:4' })
      await rx.waitFor(/listening on/)
      await relay.waitFor(/listening on/)
      const tx = launch(`${produce} ! qtisocketsink socket=${a} sync=false wait-for-connection=true`,
        { debug: 'qtisocketsink:4' })
      return finish([tx, relay, rx], rx, false)
    }
    case 'shm':
    case 'shm relay': {
      const [a, b] = [socketPath('bench-shm-a'), socketPath('bench-shm-b')]
      const tx = launch(`${produce} ! shmsink socket-path=${a} wait-for-connection=true ${SHM_SIZE} sync=false`)
      for (let i = 0; i < 300 && !fs.existsSync(a); i++)
        await sleep(10)
      const relay = mode === 'shm relay' ? launch(`shmsrc socket-path=${a} is-live=true ! ${c.caps} ! ` +
        `shmsink socket-path=${b} wait-for-connection=true ${SHM_SIZE} sync=false`) : undefined
      if (relay)
        for (let i = 0; i < 300 && !fs.existsSync(b); i++)
          await sleep(10)
      const rx = launch(`shmsrc socket-path=${relay ? b : a} is-live=true ! ${c.caps} ! ${METER}`, v)
      return finish(relay ? [tx, relay, rx] : [tx, rx], rx, true)
    }
  }
}

// ---- users' shapes: where users put the sink, each beside shm (or the same consumer in one process) ----
const HD = 'video/x-raw,format=NV12,width=1920,height=1080,framerate=30/1'
const SMALL = 'video/x-raw,format=NV12,width=640,height=360,framerate=30/1'
const SCALE = 'videoscale ! video/x-raw,width=320,height=180'
const RATE = 'videorate ! video/x-raw,framerate=45/1'
const SINK = 'sync=false wait-for-connection=true'
const TEXT64 = 'fakesrc num-buffers=100000 sizetype=fixed sizemax=64 filltype=zero'

async function listening(ls: Launch[]): Promise<void> {
  await Promise.all(ls.map(l => l.waitFor(/listening on/)))
}

async function shmSender(produce: string): Promise<{ tx: Launch, sock: string }> {
  const sock = socketPath('bench-shm')
  const tx = launch(`${produce} ! shmsink socket-path=${sock} wait-for-connection=true ${SHM_SIZE} sync=false`)
  for (let i = 0; i < 300 && !fs.existsSync(sock); i++)
    await sleep(10)
  return { tx, sock }
}

// ---- peers: the real elements of ../shared/PEERS.md, where this machine has them (the repo never builds
// them). BENCH_UNIXFD_PREFIX: the install prefix of a GStreamer >= 1.24 with unixfdsink (else the system's
// own unixfdsink, when it has one); BENCH_VENDOR_PLUGINS: a folder holding the vendor's
// libgstqtisocketsink.so and libgstqtisocketsrc.so (built against the system's GStreamer).
interface Peer { label: string, bin: string, env: Record<string, string> }

function unixfdPeer(): Peer | undefined {
  const prefix = process.env.BENCH_UNIXFD_PREFIX
  let peer: Peer
  if (prefix) {
    // lib/<multiarch>/ (whichever the prefix has), lib64/ or lib/
    const libRoot = path.join(prefix, 'lib')
    const multiarch = fs.existsSync(libRoot) ? fs.readdirSync(libRoot).map(d => path.join(libRoot, d)) : []
    const lib = [...multiarch, path.join(prefix, 'lib64'), libRoot].find(d => fs.existsSync(path.join(d, 'gstreamer-1.0')))
    if (!lib)
      throw new Error(`BENCH_UNIXFD_PREFIX=${prefix}: no lib*/gstreamer-1.0 folder there`)
    peer = { label: '', bin: path.join(prefix, 'bin', 'gst-launch-1.0'), env: { LD_LIBRARY_PATH: lib,
      GST_PLUGIN_SYSTEM_PATH_1_0: path.join(lib, 'gstreamer-1.0'), GST_PLUGIN_PATH: '',
      GST_PLUGIN_SCANNER: path.join(prefix, 'libexec', 'gstreamer-1.0', 'gst-plugin-scanner'),
      GST_REGISTRY_1_0: path.join(ROOT, 'build', 'bench-unixfd-registry.bin') } }
  } else {
    peer = { label: '', bin: 'gst-launch-1.0', env: {} }
  }
  const inspect = path.join(path.dirname(peer.bin), 'gst-inspect-1.0').replace(/^\.\//, '')
  const env = { ...process.env, ...peer.env }
  if (spawnSync(inspect, ['--exists', 'unixfdsink'], { env }).status !== 0) {
    if (prefix)
      throw new Error(`BENCH_UNIXFD_PREFIX=${prefix}: its gst-inspect-1.0 has no unixfdsink`)
    return undefined
  }
  const version = /GStreamer (\S+)/.exec(spawnSync(peer.bin, ['--version'], { env }).stdout.toString())?.[1] ?? '?'
  return { ...peer, label: `GStreamer ${version}${prefix ? ', private build' : ''}` }
}

function vendorPeer(): Peer | undefined {
  const dir = process.env.BENCH_VENDOR_PLUGINS
  if (!dir)
    return undefined
  if (!fs.existsSync(path.join(dir, 'libgstqtisocketsrc.so')))
    throw new Error(`BENCH_VENDOR_PLUGINS=${dir}: no libgstqtisocketsrc.so there`)
  return { label: 'the vendor\'s C elements', bin: 'gst-launch-1.0',
    env: { GST_PLUGIN_PATH: dir, GST_REGISTRY_1_0: path.join(ROOT, 'build', 'bench-vendor-registry.bin') } }
}

const UNIXFD = unixfdPeer()
const VENDOR = vendorPeer()
/** our elements loaded by the peer's GStreamer (the shim is built against 1.22; 1.x keeps its ABI): the
 *  same producer and consumers as unixfd's rows, so that the two compare like with like */
const OURS_ON_UNIXFD: Peer | undefined = UNIXFD && { label: UNIXFD.label, bin: UNIXFD.bin, env: { ...UNIXFD.env,
  GST_PLUGIN_PATH: PLUGIN_PATH, GST_REGISTRY_1_0: path.join(ROOT, 'build', 'bench-ours-on-unixfd-registry.bin') } }

/** gst-launch-1.0 of a peer's GStreamer (under /usr/bin/time, like launch) */
const peerLaunch = (peer: Peer, pipeline: string, args: string[] = []) =>
  new Launch('', { wrap: TIME, argv: [peer.bin, ...args, ...pipeline.trim().split(/\s+/)], env: peer.env })

async function exists(file: string): Promise<void> {
  for (let i = 0; i < 500 && !fs.existsSync(file); i++)
    await sleep(10)
}

/** upstream's unixfdsink (it listens and serves its one client here; a tee for several) to unixfdsrc */
async function unixfdFanOut(peer: Peer, produce: string, n: number, consumer: string): Promise<Run> {
  const socks = Array.from({ length: n }, () => socketPath('bench-unixfd'))
  const sinks = socks.map(sock => `unixfdsink socket-path=${sock} ${SINK}`)
  const tx = peerLaunch(peer, n === 1 ? `${produce} ! ${sinks[0]}` : `${produce} ! tee name=t ${sinks.map(x => `t. ! queue ! ${x}`).join(' ')}`)
  for (const sock of socks)
    await exists(sock)
  const rxs = socks.map(sock => peerLaunch(peer, `unixfdsrc socket-path=${sock} ! ${consumer}${METER}`, ['-v']))
  return finish([tx, ...rxs], rxs[n - 1]!, false)
}

/** the vendor's receiver (it listens); the sender is ours, or theirs with `theirs`. Their receiver takes its
 *  caps from downstream, not from the sender: `consumer` must begin with the stream's caps */
async function vendorChain(peer: Peer, produce: string, consumer: string, theirs: boolean): Promise<Run> {
  const sock = socketPath('bench-vendor')
  const rx = peerLaunch(peer, `qtisocketsrc socket=${sock} ! ${consumer}${METER}`, ['-v'])
  await exists(sock)
  const tx = theirs ? peerLaunch(peer, `${produce} ! qtisocketsink socket=${sock} sync=false`)
    : launch(`${produce} ! qtisocketsink socket=${sock} ${SINK}`, { debug: 'qtisocketsink:4' })
  return finish([tx, rx], rx, false)
}

/** the producer alone (or joined to a consumer) in one process of a peer's GStreamer */
function peerAlone(peer: Peer, pipeline: string): Promise<Run> {
  const l = peerLaunch(peer, `${pipeline} ! ${METER}`, ['-v'])
  return finish([l], l, false)
}

/** one producer, `n` receivers (each consumer: `consumer` then the meter), through a tee for ours */
async function fanOut(produce: string, caps: string, n: number, consumer: string, shm: boolean): Promise<Run> {
  const v = { args: ['-v'] }
  if (shm) {
    const { tx, sock } = await shmSender(produce)
    const rxs = Array.from({ length: n }, () => launch(`shmsrc socket-path=${sock} is-live=true ! ${caps} ! ${consumer}${METER}`, v))
    return finish([tx, ...rxs], rxs[n - 1]!, true)
  }
  const socks = Array.from({ length: n }, () => socketPath('bench-fan'))
  const rxs = socks.map(sock => launch(`qtisocketsrc socket=${sock} ! ${consumer}${METER}`, { debug: 'qtisocketsrc:4', ...v }))
  await listening(rxs)
  const sinks = socks.map(sock => `qtisocketsink socket=${sock} ${SINK}`)
  const tx = launch(n === 1 ? `${produce} ! ${sinks[0]}` : `${produce} ! tee name=t ${sinks.map(x => `t. ! queue ! ${x}`).join(' ')}`,
    { debug: 'qtisocketsink:4' })
  return finish([tx, ...rxs], rxs[n - 1]!, false)
}

/** a path of a shape: its name, its run, and the row of the same shape whose CPU per buffer is its
 *  producer's own (the same producer on the same GStreamer: the private build has no ORC, so its
 *  videotestsrc and videoscale cost more than the system's; "above" compares like with like) */
type ShapeRun = [string, () => Promise<Run>, string?]
interface Shape { name: string, unit: string, runs: ShapeRun[] }

/** one qtisocketsink mode=listen serving `n` receivers (mode=connect, started first: they retry); on the
 *  system's GStreamer, or on a peer's */
async function listenFanOut(produce: string, n: number, peer?: Peer, wire: 'ours' | 'unixfd' | 'unixfd to theirs' = 'ours'): Promise<Run> {
  const sock = socketPath('bench-listen')
  const start = (pipeline: string, debug: string, args: string[] = []) => peer
    ? peerLaunch({ ...peer, env: { ...peer.env, GST_DEBUG: debug } }, pipeline, args) : launch(pipeline, { debug, args })
  const how = wire === 'ours' ? 'mode=connect' : 'wire=unixfd'
  // our sink with wire=unixfd serving our receivers of that wire, or stock unixfdsrc (which do not retry:
  // they start once the sink listens)
  const rxs = wire === 'unixfd to theirs' ? [] : Array.from({ length: n }, () =>
    start(`qtisocketsrc socket=${sock} ${how} ! ${METER}`, 'qtisocketsrc:4', ['-v']))
  await Promise.all(rxs.map(r => r.waitFor(/no sender listens on/)))
  const tx = start(`${produce} ! qtisocketsink socket=${sock} ${wire === 'ours' ? 'mode=listen' : 'wire=unixfd'} ${SINK}`,
    'qtisocketsink:4')
  if (wire === 'unixfd to theirs') {
    await exists(sock)
    for (let i = 0; i < n; i++)
      rxs.push(peerLaunch(peer!, `unixfdsrc socket-path=${sock} ! ${METER}`, ['-v']))
  }
  return finish([tx, ...rxs], rxs[n - 1]!, false)
}

/** upstream's unixfdsink serving `n` unixfdsrc clients itself (no tee) */
async function unixfdServe(peer: Peer, produce: string, n: number): Promise<Run> {
  const sock = socketPath('bench-unixfd-serve')
  const tx = peerLaunch(peer, `${produce} ! unixfdsink socket-path=${sock} ${SINK}`)
  await exists(sock)
  const rxs = Array.from({ length: n }, () => peerLaunch(peer, `unixfdsrc socket-path=${sock} ! ${METER}`, ['-v']))
  return finish([tx, ...rxs], rxs[n - 1]!, false)
}
const PRODUCE_HD = `videotestsrc num-buffers=600 ! ${HD}`
// the cost per buffer: long enough (about 3 s) for 10 ms CPU ticks, and for the producer alone to be sampled
const PRODUCE_SMALL = `videotestsrc num-buffers=20000 ! ${SMALL}`
const ALONE = 'producer alone'
const UNIXFD_ALONE = `producer alone, ${UNIXFD?.label ?? ''}`
const UNIXFD_JOINED = `joined, ${UNIXFD?.label ?? ''}`
const alone = (pipeline: string) => { const l = launch(`${pipeline} ! ${METER}`, { args: ['-v'] }); return finish([l], l, false) }
/** the runs of a shape through upstream's unixfd, when the machine has it: the path, and its producer alone */
function unixfdRuns(produce: string, n: number, consumer = ''): ShapeRun[] {
  return UNIXFD ? [[`unixfd (${UNIXFD.label})`, () => unixfdFanOut(UNIXFD, produce, n, consumer), UNIXFD_ALONE],
    [UNIXFD_ALONE, () => peerAlone(UNIXFD, produce)]] : []
}
const SHAPES: Shape[] = [
  { name: 'tee to 2 receivers, 1080p', unit: 'frames/s', runs: [
    ['qtisocket', () => fanOut(PRODUCE_HD, HD, 2, '', false), ALONE],
    ['shm', () => fanOut(PRODUCE_HD, HD, 2, '', true), ALONE],
    [ALONE, () => alone(PRODUCE_HD)],
    ...unixfdRuns(PRODUCE_HD, 2)] },
  { name: 'tee to 3 receivers, 1080p', unit: 'frames/s', runs: [
    ['qtisocket', () => fanOut(PRODUCE_HD, HD, 3, '', false), ALONE],
    ['shm', () => fanOut(PRODUCE_HD, HD, 3, '', true), ALONE],
    [ALONE, () => alone(PRODUCE_HD)],
    ...unixfdRuns(PRODUCE_HD, 3)] },
  { name: '3 receivers on one listening sink (no tee), 1080p', unit: 'frames/s', runs: [
    ['qtisocket', () => listenFanOut(PRODUCE_HD, 3), ALONE],
    ['shm', () => fanOut(PRODUCE_HD, HD, 3, '', true), ALONE],
    [ALONE, () => alone(PRODUCE_HD)],
    ...(UNIXFD ? [[`unixfd (${UNIXFD.label})`, () => unixfdServe(UNIXFD, PRODUCE_HD, 3), UNIXFD_ALONE],
      [`qtisocket on ${UNIXFD.label}`, () => listenFanOut(PRODUCE_HD, 3, OURS_ON_UNIXFD), UNIXFD_ALONE],
      [`qtisocket wire=unixfd both sides, on ${UNIXFD.label}`, () => listenFanOut(PRODUCE_HD, 3, OURS_ON_UNIXFD, 'unixfd'),
        UNIXFD_ALONE],
      [`qtisocketsink wire=unixfd to 3 unixfdsrc, on ${UNIXFD.label}`,
        () => listenFanOut(PRODUCE_HD, 3, OURS_ON_UNIXFD, 'unixfd to theirs'), UNIXFD_ALONE],
      [UNIXFD_ALONE, () => peerAlone(UNIXFD, PRODUCE_HD)]] as ShapeRun[] : [])] },
  // the same with small frames: what each buffer costs to pass on, whatever its size, is most of it
  { name: '3 receivers on one listening sink (no tee), 640x360: the cost per buffer', unit: 'frames/s', runs: [
    ['qtisocket', () => listenFanOut(PRODUCE_SMALL, 3), ALONE],
    [ALONE, () => alone(PRODUCE_SMALL)],
    ...(UNIXFD ? [[`unixfd (${UNIXFD.label})`, () => unixfdServe(UNIXFD, PRODUCE_SMALL, 3), UNIXFD_ALONE],
      [`qtisocket on ${UNIXFD.label}`, () => listenFanOut(PRODUCE_SMALL, 3, OURS_ON_UNIXFD), UNIXFD_ALONE],
      [`qtisocket wire=unixfd both sides, on ${UNIXFD.label}`, () => listenFanOut(PRODUCE_SMALL, 3, OURS_ON_UNIXFD, 'unixfd'),
        UNIXFD_ALONE],
      [UNIXFD_ALONE, () => peerAlone(UNIXFD, PRODUCE_SMALL)]] as ShapeRun[] : [])] },
  { name: 'reading consumer (videoscale to 320x180), 1080p', unit: 'frames/s', runs: [
    ['qtisocket', () => fanOut(PRODUCE_HD, HD, 1, `${SCALE} ! `, false), 'joined'],
    ['shm', () => fanOut(PRODUCE_HD, HD, 1, `${SCALE} ! `, true), 'joined'],
    ...(VENDOR ? [[`vendor's receiver (${VENDOR.label}), our sender`, () => vendorChain(VENDOR, PRODUCE_HD, `${HD} ! ${SCALE} ! `, false),
      'joined'] as ShapeRun] : []),
    ['joined', () => alone(`${PRODUCE_HD} ! ${SCALE}`), ALONE],
    [ALONE, () => alone(PRODUCE_HD)],
    ...(UNIXFD ? [[`unixfd (${UNIXFD.label})`, () => unixfdFanOut(UNIXFD, PRODUCE_HD, 1, `${SCALE} ! `), UNIXFD_JOINED],
      [UNIXFD_JOINED, () => peerAlone(UNIXFD, `${PRODUCE_HD} ! ${SCALE}`), UNIXFD_ALONE],
      [UNIXFD_ALONE, () => peerAlone(UNIXFD, PRODUCE_HD)]] as ShapeRun[] : [])] },
  { name: 'videorate upstream (30 to 45 frames/s), 1080p', unit: 'frames/s', runs: [
    ['qtisocket', () => fanOut(`videotestsrc num-buffers=400 ! ${HD} ! ${RATE}`, HD.replace('30/1', '45/1'), 1, '', false), ALONE],
    ['shm', () => fanOut(`videotestsrc num-buffers=400 ! ${HD} ! ${RATE}`, HD.replace('30/1', '45/1'), 1, '', true), ALONE],
    [ALONE, () => alone(`videotestsrc num-buffers=400 ! ${HD} ! ${RATE}`)],
    ...unixfdRuns(`videotestsrc num-buffers=400 ! ${HD} ! ${RATE}`, 1)] },
  { name: '64-byte text/x-raw from system memory (inline)', unit: 'buffers/s', runs: [
    ['qtisocket', () => fanOut(`${TEXT64} ! text/x-raw,format=utf8`, 'text/x-raw', 1, '', false)],
    ...(VENDOR ? [[`vendor (${VENDOR.label}) both sides`, () => vendorChain(VENDOR, `${TEXT64} ! text/x-raw,format=utf8`,
      'text/x-raw,format=utf8 ! ', true)] as ShapeRun] : [])] },
  { name: 'regions of interest on every frame, 640x360', unit: 'frames/s', runs: [
    ['qtisocket', async () => {
      const sock = socketPath('bench-roi')
      const rx = launch(`qtisocketsrc socket=${sock} ! ${METER}`, { debug: 'qtisocketsrc:4', args: ['-v'] })
      await listening([rx])
      const tx = new Launch('', { wrap: TIME, argv: ['/usr/bin/python3', path.join(__dirname, '..', '..', 'scripts', 'bench_roi.py'),
        sock, '3000', SMALL], debug: 'qtisocketsink:4' })
      return finish([tx, rx], rx, false)
    }]] },
]

async function userShapes(): Promise<string[]> {
  const results = new Map<string, Run[]>()
  // BENCH_SHAPE=<part of a name>: those shapes only (with BENCH_ONLY=users, for a quick look)
  const shapes = SHAPES.filter(sh => !process.env.BENCH_SHAPE || sh.name.includes(process.env.BENCH_SHAPE))
  // BENCH_PATHS=<part>,<part>: only the paths whose names contain one of them (a closer look at a few)
  const only = process.env.BENCH_PATHS?.split(',')
  for (let rep = 0; rep < REPS; rep++) {
    for (const shape of shapes) {
      for (const [path, go] of shape.runs) {
        if (only && !only.some(part => path.includes(part)))
          continue
        const r = await go()
        const k = `${shape.name}|${path}`
        results.set(k, [...(results.get(k) ?? []), r])
        process.stderr.write(`  rep ${rep + 1} ${shape.name}, ${path}: ${Math.round(r.rate)} ${shape.unit}, ` +
          `${(1000 * r.cpuPerBuffer).toFixed(3)} ms CPU/buffer (by process: ${r.byProcess.map(x => (1000 * x).toFixed(3)).join(' ')}), ` +
          `receiver faults/buffer ${r.faults.toFixed(2)}\n`)
      }
    }
  }
  const lines = ['| shape | path | rate | CPU/buffer, all processes | vs qtisocket, same rep | above its base (base) | ' +
    'receiver CPU/buffer | receiver minor faults/buffer | JS calls/buffer | bytes copied/buffer | fds sent/buffer |',
  '|---|---|---|---|---|---|---|---|---|---|---|']
  const ms = (x: number) => Number.isNaN(x) ? '-' : `${(1000 * x).toFixed(3)} ms`
  for (const shape of shapes) {
    const rsOf = (p: string) => results.get(`${shape.name}|${p}`) ?? []
    const cpuOf = (p: string) => median(rsOf(p).map(r => r.cpuPerBuffer))
    for (const [p, , base] of shape.runs) {
      const rs = rsOf(p)
      const med = (f: (r: Run) => number) => median(rs.map(f))
      const ours = p === 'qtisocket'
      const per = (f: (r: Run) => number) => ours ? med(r => f(r) / Math.max(r.totals.sent, 1)) : NaN
      // the receiver: the last process, when there are several
      const rx = med(r => r.byProcess.length > 1 ? r.byProcess[r.byProcess.length - 1]! : NaN)
      const above = base ? `${ms(med(r => r.cpuPerBuffer) - cpuOf(base))} (${base})` : '-'
      // the machine's speed drifts over minutes: the paths of one rep ran back to back, so the median of
      // the per-rep ratios is steadier than the ratio of the medians
      const oursRuns = rsOf('qtisocket')
      const ratio = p === 'qtisocket' || oursRuns.length !== rs.length ? '-'
        : `${median(rs.map((r, i) => r.cpuPerBuffer / oursRuns[i]!.cpuPerBuffer)).toFixed(2)}×`
      lines.push(`| ${shape.name} | ${p} | ${Math.round(med(r => r.rate))} ${shape.unit} | ${ms(med(r => r.cpuPerBuffer))} | ` +
        `${ratio} | ${above} | ${ms(rx)} | ${med(r => r.faults).toFixed(2)} | ${ours ? per(r => r.totals.jsCalls).toFixed(4) : '-'} | ` +
        `${ours ? Math.round(per(r => r.totals.bytesCopied)) : '-'} | ${ours ? per(r => r.totals.fdsSent).toFixed(4) : '-'} |`)
    }
  }
  // ours against upstream's unixfd on the same (private) GStreamer, so with the same producer: the
  // median of the per-rep ratios, and in how many reps ours cost at most theirs
  for (const shape of shapes) {
    const theirs = results.get(`${shape.name}|unixfd (${UNIXFD?.label ?? ''})`) ?? []
    for (const [p] of shape.runs) {
      const rs = results.get(`${shape.name}|${p}`) ?? []
      if (!p.startsWith('qtisocket') || !UNIXFD || !p.includes(UNIXFD.label) || rs.length !== theirs.length || !rs.length)
        continue
      const ratios = rs.map((r, i) => r.cpuPerBuffer / theirs[i]!.cpuPerBuffer)
      lines.push('', `${shape.name}: ${p} against unixfd on the same GStreamer, CPU per buffer of all processes: ` +
        `median of the per-rep ratios ${median(ratios).toFixed(2)}× (reps: ${ratios.map(x => x.toFixed(2)).join(', ')}); ` +
        `at most unixfd's in ${ratios.filter(x => x <= 1).length} of ${ratios.length} reps`)
    }
  }
  return lines
}

/** syscall name -> calls, from the summary of strace -c */
function straceCounts(file: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const t = line.trim().split(/\s+/)
    if (t.length >= 5 && /^[\d.]+$/.test(t[0]!) && /^\d+$/.test(t[3]!) && t[t.length - 1] !== 'total')
      counts.set(t[t.length - 1]!, Number(t[3]))
  }
  return counts
}

/** Syscalls per buffer of the sender and of the receiver in the steady state, with strace -f -c:
 *  two runs of 64-byte buffers, N1 and N2 of them; the difference of the counts over N2 - N1 leaves
 *  start-up (the embedded Node's boot) and tear-down out. */
async function syscallsPerBuffer(): Promise<Array<Map<string, number>>> {
  const [n1, n2] = [2000, 12000]
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-strace-'))
  const counts: Array<Array<Map<string, number>>> = []
  for (const n of [n1, n2]) {
    const sock = socketPath('bench-strace')
    const [fileTx, fileRx] = [path.join(dir, `tx-${n}`), path.join(dir, `rx-${n}`)]
    const rx = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { wrap: ['strace', '-f', '-c', '-o', fileRx] })
    await rx.waitFor(/Setting pipeline to PLAYING/)
    await sleep(1000)
    const tx = new Launch(`videotestsrc num-buffers=${n} ! ${FORMATS[0]!.caps} ! qtisocketsink socket=${sock} ` +
      'sync=false wait-for-connection=true', { wrap: ['strace', '-f', '-c', '-o', fileTx] })
    await Promise.all([tx.wait(120000), rx.wait(120000)])
    counts.push([straceCounts(fileTx), straceCounts(fileRx)])
  }
  fs.rmSync(dir, { recursive: true })
  return [0, 1].map(side => {
    const per = new Map<string, number>()
    for (const [name, calls] of counts[1]![side]!)
      per.set(name, (calls - (counts[0]![side]!.get(name) ?? 0)) / (n2 - n1))
    return per
  })
}

interface PlotRow { label: string, rate: number, ours: number, theirs: number }

/** docs/bench.png (gnuplot): the rate against shm's, and the transport's CPU per buffer of each */
function drawPlot(rows: PlotRow[]): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-plot-'))
  const data = path.join(dir, 'bench.dat')
  fs.writeFileSync(data, rows.map(r => `"${r.label}" ${r.rate.toFixed(3)} ${r.ours.toFixed(4)} ${r.theirs.toFixed(4)}`)
    .join('\n') + '\n')
  const out = path.join(__dirname, '..', '..', 'docs', 'bench.png')
  const script = [
    `set terminal pngcairo size 1100,480 font "sans,10"`, `set output "${out}"`,
    'set multiplot layout 1,2 title "qtisocket-ts against shmsink/shmsrc (npm run bench)"',
    'set style data histograms', 'set style histogram clustered gap 1', 'set style fill solid 0.8 border -1',
    'set xtics rotate by -30', 'set grid ytics', 'set key top left',
    'set title "rate, relative to shm (1 = as fast)"', 'set yrange [0:1.3]',
    `plot "${data}" using 2:xtic(1) title "qtisocket / shm" lc rgb "#2b7bba", 1 with lines dt 2 lc rgb "#888888" notitle`,
    'set title "transport CPU per buffer, ms (all processes, minus the producer)"', 'set yrange [0:*]',
    `plot "${data}" using 3:xtic(1) title "qtisocket" lc rgb "#2b7bba", "" using 4 title "shm" lc rgb "#e08030"`,
    'unset multiplot',
  ].join('\n')
  const r = spawnSync('gnuplot', [], { input: script, encoding: 'utf8' })
  if (r.status !== 0)
    process.stderr.write(`no plot: gnuplot ${r.error?.message ?? r.stderr}\n`)
  fs.rmSync(dir, { recursive: true })
}

const median = (xs: number[]) => {
  const ok = xs.filter(x => !Number.isNaN(x)).sort((a, b) => a - b)
  return ok.length ? ok[Math.floor(ok.length / 2)]! : NaN
}

const SHM_NOTE = `shmsink→shmsrc on GStreamer 1.22 stalls with many small buffers: by hand, \`videotestsrc num-buffers=20000 !
video/x-raw,format=GRAY8,width=8,height=8 ! shmsink\` into \`shmsrc ! fakesink num-buffers=20000\` delivered a few
hundred to a few thousand buffers, then nothing (seen with and without \`shm-size\`, \`do-timestamp\`,
\`buffer-time\`). So there is no shm figure for 64-byte buffers.
`

/** what the peers' rows are, and which this run had */
function peersNote(): string {
  const had = [UNIXFD && `upstream's unixfdsink/unixfdsrc (${UNIXFD.label})`, VENDOR && VENDOR.label].filter(Boolean)
  return `Peers in this run: ${had.length ? had.join(', ') : 'none'}. The real elements of ../shared/PEERS.md run ` +
    'beside ours when the machine has them (the repo never builds them): `BENCH_UNIXFD_PREFIX=<prefix>` names a ' +
    'GStreamer >= 1.24 install with unixfdsink (otherwise the system\'s own, when it has one), ' +
    '`BENCH_VENDOR_PLUGINS=<folder>` a folder with the vendor\'s libgstqtisocketsink.so and libgstqtisocketsrc.so. ' +
    'A private GStreamer is not the system\'s: its rows are compared through "above its base", the CPU per frame ' +
    'above the same producer (and consumer) in one process of that GStreamer, as well as in all. The vendor\'s ' +
    'receiver takes its caps from downstream (a caps filter after it); their sender takes fd memory only, so the ' +
    'reading consumer\'s vendor row has our sender (speaking their wire) and their receiver.\n\n' +
    'Checked by hand (GStreamer 1.28.6, private build): through a `tee`, unixfdsink copies every frame into its ' +
    'own shared memory (with `min-memory-size=-1` the same pipeline stops with "Buffer has non-FD memories and ' +
    'copying is disabled"; without the tee it does not), which its tee rows\' CPU above the producer shows.\n'
}

async function main(): Promise<void> {
  if (process.env.BENCH_ONLY === 'users') {
    // a quick look at the users' shapes alone (docs are not rewritten)
    process.stdout.write(`${(await userShapes()).join('\n')}\n\n${peersNote()}`)
    return
  }
  const results = new Map<string, Run[]>()
  const key = (c: Case, m: Mode) => `${c.name}|${m}`
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of FORMATS) {
      for (const mode of MODES) {
        if (mode.endsWith('relay') && !c.chain)
          continue
        if (mode.startsWith('shm') && c.unit === 'buffers/s')
          continue  // stalls on 1.22: see the note
        const r = await run(c, mode)
        results.set(key(c, mode), [...(results.get(key(c, mode)) ?? []), r])
        process.stderr.write(`  rep ${rep + 1} ${c.name} ${mode}: ${Math.round(r.rate)} ${c.unit}, ${r.received} of ` +
          `${c.n}, ${(1000 * r.cpuPerBuffer).toFixed(3)} ms CPU/buffer steady, ${r.cpuTotal.toFixed(2)} s CPU in all\n`)
      }
    }
  }

  const lines = ['| case | path | rate | CPU/buffer, all processes | transport CPU/buffer | bytes copied/buffer by hop | ' +
    'fds passed/buffer by hop | JS calls/buffer, all elements | peak RSS MiB by process | peak open fds by process | ' +
    'vs shm: rate, CPU/buffer |',
  '|---|---|---|---|---|---|---|---|---|---|---|']
  const plot: PlotRow[] = []
  for (const c of FORMATS) {
    const stat = (m: Mode) => {
      const rs = (results.get(key(c, m)) ?? []).filter(r => r.received >= c.n / 2)
      if (!rs.length)
        return undefined
      const rate = median(rs.map(r => r.rate))
      const cpu = median(rs.map(r => r.cpuPerBuffer))
      return { rate, cpu, rss: rs[0]!.rss, copied: rs[0]!.copied, runs: rs.length, fds: rs[0]!.fds,
        fdsPassed: rs[0]!.fdsPassed, jsCalls: rs[0]!.jsCalls }
    }
    const alone = stat('alone')
    for (const m of MODES) {
      const s = stat(m)
      if (!s)
        continue
      const shmMode = m === 'qtisocket' ? 'shm' : m === 'qtisocket relay' ? 'shm relay' : undefined
      const shm = shmMode ? stat(shmMode) : undefined
      const transport = alone && m !== 'alone' ? s.cpu - alone.cpu : NaN
      const shmTransport = shm && alone ? shm.cpu - alone.cpu : NaN
      const vs = shm ? `${(s.rate / shm.rate).toFixed(2)}×, ${(s.cpu / shm.cpu).toFixed(2)}× (transport ` +
        `${Number.isNaN(transport / shmTransport) ? '-' : (transport / shmTransport).toFixed(2) + '×'})` : ''
      const ms = (x: number) => Number.isNaN(x) ? '-' : `${(1000 * x).toFixed(3)} ms`
      if (shm)
        plot.push({ label: `${c.name}${m.endsWith('relay') ? ', chain' : ''}`, rate: s.rate / shm.rate,
          ours: 1000 * transport, theirs: 1000 * shmTransport })
      const ours = m.startsWith('qtisocket')
      lines.push(`| ${c.name} | ${m} | ${Math.round(s.rate)} ${c.unit} | ${ms(s.cpu)} | ${ms(transport)} | ` +
        `${ours ? s.copied.map(x => Math.round(x)).join(' / ') : '-'} | ` +
        `${ours ? s.fdsPassed.map(x => x.toFixed(4)).join(' / ') : '-'} | ${ours ? s.jsCalls.toFixed(4) : '-'} | ` +
        `${s.rss.map(x => Math.round(x)).join(' / ')} | ${s.fds.join(' / ')} | ${vs} |`)
    }
  }
  const users = await userShapes()
  lines.push('', 'Users\' shapes (sync=false; per buffer sent by each qtisocketsink: with a tee, per branch; ' +
    'the receiver is the last process, for a tee the last branch\'s):', '', ...users)

  // latency and start: the sender (sync=true, 60 frames/s, 1080p) waits for its receiver; the
  // receiver is started then: the time to its first buffer includes its embedded Node's start, and
  // its stats give the one-way latency of each buffer (arrival minus the instant the sender meant).
  // Two shapes of sender: the sink on the thread that draws the frames (after sending frame N, that
  // thread draws frame N+1 for ~1.3 ms), and a queue before the sink, as behind a live source
  // (the sink's thread waits for the next frame).
  const LAT_FRAMES = 600
  const shapes = [{ name: 'queue before the sink', queue: 'queue ! ' }, { name: 'sink on the drawing thread', queue: '' }]
  const lat: Array<Array<{ p50: number, p99: number, first: number }>> = shapes.map(() => [])
  for (let rep = 0; rep < REPS; rep++) {
    for (const [i, shape] of shapes.entries()) {
      const sock = socketPath('bench-latency')
      const tx = new Launch(`videotestsrc num-buffers=${LAT_FRAMES} ! video/x-raw,format=NV12,width=1920,height=1080,` +
        `framerate=60/1 ! ${shape.queue}qtisocketsink socket=${sock} wait-for-connection=true`)
      await sleep(1500)
      const rx = new Launch(`qtisocketsrc socket=${sock} ! fakesink`, { debug: 'qtisocketsrc:4' })
      const [, r] = await Promise.all([tx.wait(60000), rx.wait(60000)])
      const first = r.out.match(/^(\d+):(\d\d):(\d\d\.\d+) .*first buffer from the sender/m)
      const p = r.out.match(/latency-p50=\(gint64\)(-?\d+), latency-p99=\(gint64\)(-?\d+)/)
      const l = { p50: Number(p?.[1]) / 1e6, p99: Number(p?.[2]) / 1e6,
        first: first ? Number(first[1]) * 3600 + Number(first[2]) * 60 + Number(first[3]) : NaN }
      lat[i]!.push(l)
      process.stderr.write(`  rep ${rep + 1} latency, ${shape.name}: p50 ${l.p50.toFixed(3)} ms, p99 ${l.p99.toFixed(3)} ms, ` +
        `first buffer ${l.first.toFixed(3)} s after the receiver started\n`)
    }
  }
  const figures = shapes.map((shape, i) => `${shape.name}: p50 ${median(lat[i]!.map(l => l.p50)).toFixed(3)} ms, ` +
    `p99 ${median(lat[i]!.map(l => l.p99)).toFixed(3)} ms`)
  const latency = `One-way latency at 60 frames/s (1080p NV12, the sender syncing), receiver's stats over ${LAT_FRAMES} ` +
    `frames, median of ${REPS}: ${figures.join('; ')}. First buffer ` +
    `${median(lat.flat().map(l => l.first)).toFixed(3)} s after starting the receiver (its embedded Node's start ` +
    'included), the sender waiting for it.'
  lines.push('', latency)

  drawPlot(plot)

  const sides = await syscallsPerBuffer()
  const describe = (per: Map<string, number>) => {
    const top = [...per].filter(([, x]) => x >= 0.05).sort((a, b) => b[1] - a[1])
    const total = [...per.values()].reduce((a, b) => a + b, 0)
    return `${total.toFixed(1)} (${top.map(([name, x]) => `${name} ${x.toFixed(2)}`).join(', ')})`
  }
  lines.push('', `Syscalls per buffer in the steady state (64-byte buffers, strace -f -c, counts of 12,000 minus ` +
    `those of 2,000 buffers, all threads): sender ${describe(sides[0]!)}; receiver ${describe(sides[1]!)}.`)

  const title = `sync=false, the rate seen by the last process, median of ${REPS} runs`
  process.stdout.write(`${title}\n${lines.join('\n')}\n`)
  const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.release()}`
  // docs/bench.md: the latest run goes between its markers; what is written by hand around them stays
  const file = path.join(__dirname, '..', '..', 'docs', 'bench.md')
  const [START, END] = ['<!-- bench:start -->', '<!-- bench:end -->']
  const old = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : ''
  const at = old.indexOf(START)
  const end = old.indexOf(END)
  const [before, after] = at >= 0 && end > at ? [old.slice(0, at), old.slice(end + END.length)]
    : [old || '# Benchmark\n\n', '\n']
  fs.writeFileSync(file, `${before}${START}\nMade by \`npm run bench\` ` +
    `(scripts/bench.ts) on ${new Date().toISOString().slice(0, 10)}, ${machine}: ${title}. CPU is user + system ` +
    'time of every process of the case (/proc/<pid>/stat, 10 ms ticks), per buffer, sampled while the buffers flow ' +
    '(start-up and tear-down left out); the transport\'s share is that minus the producer alone. Bytes copied are ' +
    'counted by each qtisocketsink (producer hop / relay hop), and so are the fds passed; JS calls per buffer are those ' +
    'of all our elements together, from their stats (start, caps, greeting and the first buffers included). Peak RSS ' +
    'from /usr/bin/time, peak open fds sampled from /proc/<pid>/fd.\n\n![plot](bench.png)\n\n' +
    `${lines.join('\n')}\n\n${peersNote()}\n${SHM_NOTE}${END}${after}`)
}

main().catch(e => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`)
  process.exit(1)
})
