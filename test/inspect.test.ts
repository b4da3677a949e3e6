// gst-inspect-1.0 sees stock-looking elements; the socket property refuses paths not ending in .sock.
import test from 'ava'
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { gstEnv, inspect, launch, parseChecksums, PLUGIN_PATH, ROOT } from './helpers'

test('qtisocketsink is a GstBaseSink subclass with the three caps and the socket property', t => {
  const { code, out } = inspect('qtisocketsink')
  t.is(code, 0, out)
  t.regex(out, /\+----GstBaseSink\n\s+\+----GstQtiSocketSink/)
  t.regex(out, /SINK template: 'sink'[\s\S]*video\/x-raw\(ANY\)\n\s+neural-network\/tensors\n\s+text\/x-raw/)
  t.regex(out, /socket\s+: Path of the UNIX socket \(must end in \.sock\)\n\s+flags: readable, writable, changeable only in NULL or READY state\n\s+String\. Default: null/)
  t.regex(out, /wait-for-connection\s+:/)
  t.regex(out, /Klass\s+Sink\/Network/)
})

test('qtisocketsrc is a GstPushSrc subclass with the three caps and the socket property', t => {
  const { code, out } = inspect('qtisocketsrc')
  t.is(code, 0, out)
  t.regex(out, /\+----GstBaseSrc\n\s+\+----GstPushSrc\n\s+\+----GstQtiSocketSrc/)
  t.regex(out, /SRC template: 'src'[\s\S]*video\/x-raw\(ANY\)\n\s+neural-network\/tensors\n\s+text\/x-raw/)
  t.regex(out, /socket\s+: Path of the UNIX socket \(must end in \.sock\)\n\s+flags: readable, writable, changeable only in NULL or READY state\n\s+String\. Default: null/)
})

for (const factory of ['qtisocketsink', 'qtisocketsrc']) {
  test(`${factory} refuses a socket path that does not end in .sock, naming it`, async t => {
    const pipeline = factory === 'qtisocketsink'
      ? 'videotestsrc num-buffers=1 ! qtisocketsink socket=/tmp/not-a-socket-path'
      : 'qtisocketsrc socket=/tmp/not-a-socket-path ! fakesink'
    const r = await launch(pipeline, { timeoutMs: 20000 })
    t.not(r.code, 0, r.out)
    t.regex(r.out, /invalid socket path "\/tmp\/not-a-socket-path": it must end in "\.sock"/)
    t.regex(r.out, /ERROR: from element .*qtisocket/)
  })
}

test('without a socket path the element fails to start with a clear error', async t => {
  const r = await launch('videotestsrc num-buffers=1 ! qtisocketsink', { timeoutMs: 20000 })
  t.not(r.code, 0)
  t.regex(r.out, /no socket path is set: set the "socket" property to a path ending in "\.sock"/)
})

for (const factory of ['qtisocketsink', 'qtisocketsrc']) {
  test(`gst-inspect tells the truth about ${factory}: every counter of stats in its blurb, signals' arguments named, no made-up origin`, t => {
    const { code, out } = inspect(factory)
    t.is(code, 0, out)
    const blurb = out.match(/\n\s+stats\s+: (.*)\n/)![1]!
    // the counters as gst-inspect prints the default structure: "   name: value" lines after the flags
    const structure = out.slice(out.indexOf(blurb)).split('Boxed pointer of type "GstStructure"\n')[1]!
    const shown = structure.split(/\n\s*\n/)[0]!.match(/^\s+([a-z0-9-]+): \S+$/gm)!.map(l => l.trim().split(':')[0]!)
    t.true(shown.length >= 7, out)
    for (const counter of shown)
      t.regex(blurb, new RegExp(`(^|[ (,])${counter}([ (,]|$)`), `${counter} is not in the stats blurb`)
    if (factory === 'qtisocketsrc') {
      for (const counter of ['latency-p50', 'latency-p99', 'latency-samples'])
        t.true(blurb.includes(counter), counter)
    }
    t.regex(out, /Client-connected\s+signal: void \(GstElement \*element, const gchar \*peer\): /)
    t.regex(out, /Client-disconnected\s+signal: void \(GstElement \*element, const gchar \*reason\): /)
    t.notRegex(out, /Origin URL\s+https?:/)
  })
}

// GStreamer takes relative entries in GST_PLUGIN_PATH; the plugin must then still find its parts (it
// resolves its own file's real path), from the project's folder and from another one, with a registry
// of its own so that the plugin is really loaded from that path.
test('a relative GST_PLUGIN_PATH works, from any folder: gst-inspect-1.0 and a pipeline', async t => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-relative-'))
  for (const cwd of [ROOT, scratch, path.join(ROOT, 'build')]) {
    const relative = path.relative(cwd, PLUGIN_PATH)
    t.false(path.isAbsolute(relative))
    const env = { ...gstEnv(), GST_PLUGIN_PATH: relative, GST_REGISTRY_1_0: path.join(scratch, `registry-${path.basename(cwd)}.bin`) }
    const r = spawnSync('gst-inspect-1.0', ['qtisocketsrc'], { cwd, env, encoding: 'utf8' })
    t.is(r.status, 0, `GST_PLUGIN_PATH=${relative} from ${cwd}: ${r.stdout}${r.stderr}`)
    t.regex(r.stdout, /Long-name\s+QTI socket source/, relative)
    t.notRegex(r.stderr, /could not start|Cannot find module/, relative)
    const sock = path.join(scratch, `relative-${path.basename(cwd)}.sock`)
    const run = spawnSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=5', '!', 'video/x-raw,width=64,height=48',
      '!', 'qtisocketsink', `socket=${sock}`, 'qtisocketsrc', `socket=${sock}`, '!', 'checksumsink'],
      { cwd, env, encoding: 'utf8', timeout: 60000 })
    t.is(run.status, 0, run.stdout + run.stderr)
    t.is(parseChecksums(run.stdout).length, 5, run.stdout + run.stderr)
  }
})
