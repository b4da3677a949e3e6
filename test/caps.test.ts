// Caps come in-band, and a capsfilter downstream of the receiver still works: one that matches passes
// the frames; one that cannot take the sender's caps ends the receiver with a clear negotiation error,
// without a hang.
import test from 'ava'
import { DEBUG, launch, Launch, parseChecksums, socketPath, waitAll } from './helpers'

const CAPS = 'video/x-raw,format=I420,width=320,height=240,framerate=30/1'

test('a capsfilter downstream of the receiver that matches the sender\'s caps: frames pass, identical', async t => {
  const sock = socketPath('capsfilter')
  const reference = await launch(`videotestsrc num-buffers=10 pattern=ball ! ${CAPS} ! checksumsink`)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! video/x-raw,format=I420,width=320,height=240 ! checksumsink`,
    { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const [s, r] = await waitAll([new Launch(`videotestsrc num-buffers=10 pattern=ball ! ${CAPS} ! ` +
    `qtisocketsink socket=${sock} wait-for-connection=true sync=false`), receiver], 30000)
  t.is(s.code, 0, s.out)
  t.is(r.code, 0, r.out)
  t.deepEqual(parseChecksums(r.out).map(c => c.sha1), parseChecksums(reference.out).map(c => c.sha1))
})

test('a capsfilter downstream that refuses the sender\'s caps: a negotiation error naming them, no hang', async t => {
  const sock = socketPath('capsfilter-wrong')
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! video/x-raw,format=NV12 ! fakesink`, { debug: DEBUG })
  await receiver.waitFor(/listening on/)
  const sender = new Launch(`videotestsrc num-buffers=10 ! ${CAPS} ! qtisocketsink socket=${sock} ` +
    'wait-for-connection=true sync=false')
  const r = await receiver.wait(30000)
  sender.kill('SIGINT') // it waits for the next receiver, as wait-for-connection=true says
  await sender.wait(30000)
  t.not(r.code, 0, r.out)
  t.regex(r.out, /Downstream does not accept the sender's caps video\/x-raw, format=\(string\)I420, width=\(int\)320/)
})
