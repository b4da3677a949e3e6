// The threading contract: no JS vfunc blocks the JS thread, waits are native and interruptible,
// and an exception in the TypeScript element becomes an element error.
import test from 'ava'
import { DEBUG, launch, Launch, sleep, socketPath } from './helpers'

test('sink and source in one gst-launch process run to EOS', async t => {
  const sock = socketPath('oneprocess')
  const r = await launch(`videotestsrc num-buffers=60 ! video/x-raw,format=I420,width=1920,height=1080 ! ` +
    `qtisocketsink socket=${sock} qtisocketsrc socket=${sock} ! fakesink`, { debug: DEBUG, timeoutMs: 30000 })
  t.is(r.code, 0, r.out)
  t.regex(r.out, /Got EOS from element "pipeline0"/)
  t.regex(r.out, /qtisocketsrc-stats, received=\(guint64\)60/)
})

async function interruptPromptly(t: import('ava').ExecutionContext, pipeline: string, ready: RegExp): Promise<void> {
  const p = new Launch(pipeline, { debug: DEBUG })
  await p.waitFor(ready)
  // gst-launch handles SIGINT once its event loop runs: while prerolling, or once PLAYING
  await p.waitFor(/Pipeline is PREROLLING|New clock/)
  await sleep(300)
  const before = Date.now()
  p.kill('SIGINT') // gst-launch sets the pipeline to NULL
  const r = await p.wait(10000)
  const ms = Date.now() - before
  t.is(r.code, 0, r.out)
  t.regex(r.out, /Setting pipeline to NULL/)
  t.true(ms < 2000, `PLAYING -> NULL took ${ms} ms`)
}

test('PLAYING -> NULL in the middle of a one-process stream returns promptly', async t => {
  const sock = socketPath('interrupt')
  await interruptPromptly(t, `videotestsrc ! video/x-raw,format=I420,width=1280,height=720 ! ` +
    `qtisocketsink socket=${sock} qtisocketsrc socket=${sock} ! fakesink`, /received|caps from the sender/)
})

test('PLAYING -> NULL while the source waits for a sender that never comes returns promptly', async t => {
  await interruptPromptly(t, `qtisocketsrc socket=${socketPath('nosender')} ! fakesink`, /listening on/)
})

test('PLAYING -> NULL while the sink waits for a receiver (wait-for-connection) returns promptly', async t => {
  await interruptPromptly(t, `videotestsrc ! qtisocketsink socket=${socketPath('noreceiver')} wait-for-connection=true`,
    /No receiver is listening on .*: waiting for one/)
})

test('an exception in the TypeScript element becomes an element error, not a hang or a crash', async t => {
  const sock = socketPath('exception')
  const r = await launch(`videotestsrc num-buffers=30 ! qtisocketsink socket=${sock} qtisocketsrc socket=${sock} ! fakesink`,
    { env: { QTISOCKET_FAULT: 'SetCaps' }, timeoutMs: 20000 })
  t.is(r.code, 1, r.out)
  // (SetCaps: buffers of our wire no longer call into TypeScript at all; the caps change does)
  t.regex(r.out, /ERROR: from element .*GstQtiSocketSink:qtisocketsink0: qtisocketsink: internal error in SetCaps: Error: injected fault/)
})
