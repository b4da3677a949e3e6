// The elements inside plain Node programs: registered in the process (no plugin), pipelines driven
// through Promises (lib/pipeline.ts) whose state changes run off the JS thread. The examples run as
// two processes; the API is also used right here, in the test's own process.
import anyTest from 'ava'
import { spawn, spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { Pipeline, PipelineError, register, State, StateChange } from '../lib'
import { diesWithUs, ROOT, socketPath } from './helpers'

const test = anyTest.serial
register()

function node(script: string, args: string[]): Promise<{ code: number | null, out: string }> {
  return new Promise(resolve => {
    const [command, ...rest] = diesWithUs(['node', path.join(ROOT, 'dist', 'examples', script), ...args])
    const p = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', d => { out += d })
    p.stderr.on('data', d => { out += d })
    p.on('close', code => resolve({ code, out }))
  })
}

test('examples: a TypeScript producer and a TypeScript consumer, two Node processes, 90 frames encoded', async t => {
  const sock = socketPath('node-examples')
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-node-')), 'received.mp4')
  const consumer = node('consumer.js', [sock, file])
  const producer = node('producer.js', [sock, '90'])
  const [p, c] = await Promise.all([producer, consumer])
  t.is(p.code, 0, p.out)
  t.is(c.code, 0, c.out)
  t.regex(p.out, /sent: qtisocketsink-stats, sent=\(guint64\)90, returned=\(guint64\)90,/)
  t.regex(c.out, /done: received 90 frames/)
  t.regex(c.out, /src: GstQtiSocketConnected, socket=\(string\)\S+, peer=\(string\)"qtisocket-ts\\ 1\.2";/)
  const d = spawnSync('gst-discoverer-1.0', [file], { encoding: 'utf8' })
  t.regex(d.stdout, /Duration: 0:00:(02\.9[5-9]|03\.0[0-4])/, "90 frames at 30/s")
})

test('Pipeline: both elements in this very process, run() resolves at end-of-stream, properties read back', async t => {
  const sock = socketPath('node-inproc')
  const p = Pipeline.parse(`videotestsrc num-buffers=20 ! video/x-raw,width=64,height=48 ! qtisocketsink name=tx socket=${sock} ` +
    `qtisocketsrc name=rx socket=${sock} ! fakesink`)
  const seen: string[] = []
  await p.run(m => seen.push(m.type))
  t.regex(String(p.get('tx', 'stats')), /sent=\(guint64\)20, returned=\(guint64\)20,/)
  t.regex(String(p.get('rx', 'stats')), /received=\(guint64\)20,/)
  t.is(p.get('tx', 'socket'), sock)
  t.is(p.get('tx', 'max-in-flight'), 16)
  p.set('tx', 'max-in-flight', 4)
  t.is(p.get('tx', 'max-in-flight'), 4)
  t.true(seen.includes('state-changed'))
  p.dispose()
})

test('Pipeline: a description that does not parse, and a failing state change, reject with the reason', async t => {
  t.throws(() => Pipeline.parse('videotestsrc ! no-such-element'), { instanceOf: PipelineError, message: /no-such-element/ })
  const p = Pipeline.parse('videotestsrc ! qtisocketsink socket=/tmp/not-a-socket-path')
  const e = await t.throwsAsync(p.play(), { instanceOf: PipelineError })
  t.regex(e!.message, /invalid socket path "\/tmp\/not-a-socket-path": it must end in "\.sock"/)
  t.is(e!.source, 'qtisocketsink0')
  await p.stop()
  p.dispose()
})

test('Pipeline: stopping while a sink waits for a receiver (a vfunc blocked, calling into JS) never deadlocks', async t => {
  const p = Pipeline.parse(`videotestsrc ! qtisocketsink socket=${socketPath('node-wait')} wait-for-connection=true`)
  // it cannot preroll without a receiver: the change stays asynchronous
  t.is(await p.setState(State.Playing, 500), StateChange.Async)
  const started = Date.now()
  t.is(await p.stop(), StateChange.Success)
  t.true(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`)
  p.dispose()
})
