// gst-inspect-1.0 sees stock-looking elements; the socket property refuses paths not ending in .sock.
import test from 'ava'
import { inspect, launch } from './helpers'

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
