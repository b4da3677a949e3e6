// Test helpers: real gst-launch-1.0 processes loading the plugin from the build folder, real sockets.
import { ChildProcess, spawn, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'

export const ROOT = path.resolve(__dirname, '..', '..')
export const PLUGIN_PATH = path.join(ROOT, 'build', 'meson')

export function gstEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GST_PLUGIN_PATH: PLUGIN_PATH,
    GST_REGISTRY_1_0: path.join(ROOT, 'build', 'test-registry.bin'),
    GST_DEBUG_NO_COLOR: '1',
    ...extra,
  }
}

let dir: string | undefined
/** a fresh socket path in a private temporary folder */
export function socketPath(name: string): string {
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-test-'))
  return path.join(dir, `${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}.sock`)
}

export interface Exit { code: number | null, signal: NodeJS.Signals | null, out: string, ms: number }

const running = new Set<ChildProcess>()
// a failed test must not leave its gst-launch processes behind
process.on('exit', () => {
  for (const child of running)
    child.kill('SIGKILL')
})

/** argv run so that the process is killed when this test worker goes, however it goes: ava ends a
 *  worker that timed out or failed without running its exit hooks (PR_SET_PDEATHSIG, set by setpriv
 *  from util-linux, kept across exec) */
export function diesWithUs(argv: string[]): string[] {
  return ['/usr/bin/setpriv', '--pdeathsig', 'KILL', '--', ...argv]
}

/** A gst-launch-1.0 process; its stdout and stderr are collected together. */
export class Launch {
  readonly child: ChildProcess
  out = ''
  readonly exited: Promise<Exit>
  private readonly started = Date.now()
  private waiters: Array<() => void> = []
  private closed = false

  /** wrap: a command to run gst-launch-1.0 under (e.g. /usr/bin/time -f ...); argv: another program
   *  to run instead of gst-launch-1.0 (the pipeline is then ignored), with the same environment */
  constructor(pipeline: string, opts: { debug?: string, env?: Record<string, string>, args?: string[], wrap?: string[],
    argv?: string[] } = {}) {
    const env = gstEnv({ ...(opts.debug ? { GST_DEBUG: opts.debug } : {}), ...(opts.env ?? {}) })
    // QTISOCKET_TEST_NO_FAULT=1: crash with a core file instead of gst-launch's "Caught SIGSEGV, spinning"
    const noFault = process.env.QTISOCKET_TEST_NO_FAULT ? ['--no-fault'] : []
    const argv = opts.argv ?? ['gst-launch-1.0', ...noFault, ...(opts.args ?? []), ...pipeline.trim().split(/\s+/)]
    const wrapped = opts.wrap ? [...diesWithUs(opts.wrap), ...diesWithUs(argv)] : diesWithUs(argv)
    const [command, ...rest] = wrapped
    this.child = spawn(command!, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(this.child)
    const collect = (d: Buffer) => {
      this.out += d.toString()
      for (const w of this.waiters.splice(0))
        w()
    }
    this.child.stdout!.on('data', collect)
    this.child.stderr!.on('data', collect)
    // 'close', not 'exit': only then has all of the output been read
    this.exited = new Promise(resolve => this.child.on('close', (code, signal) => {
      running.delete(this.child)
      this.closed = true
      for (const w of this.waiters.splice(0))
        w()
      if (signal)
        this.out += `\n[gst-launch-1.0 killed by ${signal}]`
      resolve({ code, signal, out: this.out, ms: Date.now() - this.started })
    }))
  }

  get pid(): number {
    return this.child.pid!
  }

  /** resolves with found()'s answer once it has one (checked at each output and every 200 ms); rejects
   *  after timeoutMs or if the process ends first */
  private async until<T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const answer = found()
      if (answer !== undefined)
        return answer
      if (this.closed)
        throw new Error(`process ended before ${what}:\n${this.out}`)
      const left = deadline - Date.now()
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}:\n${this.out}`)
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, Math.min(left, 200))
        this.waiters.push(() => { clearTimeout(t); resolve() })
      })
    }
  }

  /** resolves when the output matches, rejects after timeoutMs or if the process ends first */
  waitFor(pattern: RegExp, timeoutMs = 20000): Promise<RegExpMatchArray> {
    return this.until(() => this.out.match(pattern) ?? undefined, String(pattern), timeoutMs)
  }

  /** resolves once the output has `n` matches of `pattern` (a global regex), e.g. n frames in */
  async waitForCount(pattern: RegExp, n: number, timeoutMs = 20000): Promise<void> {
    await this.until(() => (this.out.match(pattern) ?? []).length >= n || undefined, `${n} matches of ${pattern}`,
      timeoutMs)
  }

  /** resolves once `n` checksumsink lines (frames) are in the output */
  waitForFrames(n: number, timeoutMs = 20000): Promise<void> {
    return this.waitForCount(/^\d+:\d\d:\d\d\.\d{9} [0-9a-f]{40}$/gm, n, timeoutMs)
  }

  /** waits for the exit; kills the process (and fails) after timeoutMs */
  async wait(timeoutMs = 60000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL')
        reject(new Error(`gst-launch did not exit within ${timeoutMs} ms:\n${this.out}`))
      }, timeoutMs)
    })
    try {
      return await Promise.race([this.exited, timeout])
    } finally {
      clearTimeout(timer)
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal)
  }
}

/** waits for all of them; if one does not end in time, kills all and fails with every output */
export async function waitAll(launches: Launch[], timeoutMs = 60000): Promise<Exit[]> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const l of launches)
        l.kill('SIGKILL')
      reject(new Error(`not all gst-launch processes ended within ${timeoutMs} ms:\n` +
        launches.map((l, i) => `--- process ${i} (exit ${l.child.exitCode ?? 'none'}):\n${l.out}`).join('\n')))
    }, timeoutMs)
  })
  try {
    return await Promise.race([Promise.all(launches.map(l => l.exited)), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** runs a pipeline to its end */
export function launch(pipeline: string, opts: { debug?: string, env?: Record<string, string>, timeoutMs?: number,
  args?: string[] } = {}): Promise<Exit> {
  return new Launch(pipeline, opts).wait(opts.timeoutMs ?? 60000)
}

export function inspect(factory: string): { code: number | null, out: string } {
  const r = spawnSync('gst-inspect-1.0', [factory], { env: gstEnv(), encoding: 'utf8' })
  return { code: r.status, out: r.stdout + r.stderr }
}

/** checksumsink's lines: "<pts> <sha1>" */
export function checksums(out: string): string[] {
  return out.split('\n').filter(l => /^\d+:\d\d:\d\d\.\d{9} [0-9a-f]{40}$/.test(l.trim())).map(l => l.trim())
}

export interface Checksum { pts: bigint, sha1: string }

/** checksumsink's lines, parsed: pts in ns (NONE = all ones) and the SHA-1 of the buffer's bytes */
export function parseChecksums(out: string): Checksum[] {
  return checksums(out).map(line => {
    const [time, sha1] = line.split(' ') as [string, string]
    if (time.startsWith('99:99:99'))
      return { pts: 0xffffffffffffffffn, sha1 }
    const [h, m, s] = time.split(':') as [string, string, string]
    const [sec, frac] = s.split('.') as [string, string]
    return { pts: ((BigInt(h) * 60n + BigInt(m)) * 60n + BigInt(sec)) * 1_000_000_000n + BigInt(frac), sha1 }
  })
}

/** the stats structure a sink or source logs when it stops (GST_DEBUG=qtisocket*:4) */
/** every stats structure of that element kind a process logged at stop, in order (one per element) */
export function allStoppedStats(out: string, factory: 'qtisocketsink' | 'qtisocketsrc'): Array<Record<string, number>> {
  return [...out.matchAll(new RegExp(`${factory}-stats, ([^;]*);`, 'g'))].map(m => {
    const stats: Record<string, number> = {}
    for (const [, k, v] of m[1]!.matchAll(/([a-z-]+)=\([a-z0-9]+\)(\d+)/g))
      stats[k!] = Number(v)
    return stats
  })
}

/** the first element's stats logged at stop */
export function stoppedStats(out: string, factory: 'qtisocketsink' | 'qtisocketsrc'): Record<string, number> {
  const first = allStoppedStats(out, factory)[0]
  if (!first)
    throw new Error(`no ${factory} stats in:\n${out}`)
  return first
}

export function openFds(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`)
}

/** inodes of the memfds this process has mapped */
/** a process's open fds but its memfds (a pool grows as it likes), least of 10 samples 20 ms apart: a
 *  socket closes a moment after its peer died; a leaked fd stays in every sample */
export async function fdsButMemfds(pid: number): Promise<number> {
  const out: number[] = []
  for (let i = 0; i < 10; i++) {
    out.push(openFds(pid).filter(fd => {
      try {
        return !fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/memfd:')
      } catch {
        return false // closed meanwhile
      }
    }).length)
    await sleep(20)
  }
  return Math.min(...out)
}

/** fdsButMemfds once it is back to `expected`, or what it is after timeoutMs: a loaded machine may take a
 *  moment to close a connection that ended; a leaked fd never goes */
export async function fdsSettled(pid: number, expected: number, timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const n = await fdsButMemfds(pid)
    if (n === expected || Date.now() > deadline)
      return n
    await sleep(100)
  }
}

export function mappedMemfdInodes(pid: number): Set<number> {
  const inodes = new Set<number>()
  for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    if (!line.includes('/memfd:qtisocket'))
      continue
    inodes.add(Number(line.trim().split(/\s+/)[4]))
  }
  return inodes
}

/** inodes of the memfds this process holds open */
export function openMemfdInodes(pid: number): Set<number> {
  const inodes = new Set<number>()
  for (const fd of openFds(pid)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/memfd:qtisocket'))
        inodes.add(fs.statSync(`/proc/${pid}/fd/${fd}`).ino)
    } catch {
      // closed meanwhile
    }
  }
  return inodes
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

export const DEBUG = 'qtisocketsink:4,qtisocketsrc:4'

/** A peer program from test/peers (Python: GI programs through the shim, or raw protocol speakers),
 *  run with the plugin's environment; stdout and stderr collected together. */
export class Peer {
  private readonly child: ChildProcess
  out = ''
  readonly exited: Promise<number | null>

  constructor(script: string, args: string[], env: Record<string, string> = {}) {
    const [command, ...rest] = diesWithUs(['/usr/bin/python3', path.join(ROOT, 'test', 'peers', script), ...args])
    this.child = spawn(command!, rest, { env: gstEnv(env), stdio: ['pipe', 'pipe', 'pipe'] })
    running.add(this.child)
    this.child.stdout!.on('data', d => { this.out += d })
    this.child.stderr!.on('data', d => { this.out += d })
    this.exited = new Promise(resolve => this.child.on('close', code => {
      running.delete(this.child)
      resolve(code)
    }))
  }

  /** resolves once the output contains `text` (a raw receiver prints "listening") */
  async waitFor(text: string, timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!this.out.includes(text)) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(`peer ${this.child.spawnargs.join(' ')} never printed "${text}":\n${this.out}`)
      await sleep(50)
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(signal)
  }

  /** writes to its standard input */
  write(text: string): void {
    this.child.stdin!.write(text)
  }

  /** the lines of its output that start with `prefix` */
  lines(prefix: string): string[] {
    return this.out.split('\n').filter(l => l.startsWith(prefix))
  }
}

/** runs a peer program to its end (60 s at most) */
export function runPeer(script: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'test', 'peers', script), ...args],
    { env: gstEnv(env), encoding: 'utf8', timeout: 60000 })
  return { status: r.status, stdout: r.stdout, out: r.stdout + r.stderr }
}
