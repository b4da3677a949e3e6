// Hostile input: test/peers/injector.py sends a live qtisocketsrc crafted messages with SCM_RIGHTS
// (garbage, lies about lengths and counts, too few and too many fds, fds that are not memory, sizes
// and offsets beyond the fd or overflowing 64 bits, a memfd that cannot be sealed, one it tries to
// shrink after sending, broken framing). Each is dropped with a warning that says why, never a crash,
// a SIGBUS, a hang or a leaked fd; a valid buffer after each one still arrives. The same for a sender
// of protocol 1.2, which caches its fds with the receiver, and lies about that cache, and for one that
// speaks the vendor's wire.
import test, { ExecutionContext } from 'ava'
import * as crypto from 'crypto'
import { DEBUG, Launch, openFds, parseChecksums, Peer, sleep, socketPath, stoppedStats } from './helpers'

const S = (path: string) => `the sender on "${path}"`
/** the checksum of a canary: 64 bytes of its number */
const sha1 = (byte: number) => crypto.createHash('sha1').update(Buffer.alloc(64, byte)).digest('hex')
/** what the receiver says of each case, in order */
const EXPECTED: Array<[string, (sock: string) => string]> = [
  ['no-greeting', s => `The sender on "${s}" did not greet: disconnected it`],
  ['garbage', s => `Dropped a malformed message from ${S(s)}: unknown item identity`],
  ['unknown-vendor-item', s => `Dropped a malformed message from ${S(s)}: truncated vendor item 11`],
  ['bad-hello', s => `Dropped a malformed message from ${S(s)}: hello item too short`],
  ['bad-caps', s => `Dropped a buffer from the sender on ${s}: its caps do not parse: "not caps at all !!"`],
  ['caps-not-utf8', s => `Dropped a malformed message from ${S(s)}: caps is not UTF-8`],
  ['buffer-without-memory-header', s => `Dropped a malformed message from ${S(s)}: buffer item of 20 bytes is too short`],
  ['too-few-fds', s => `Dropped a buffer from ${S(s)}: memory 1 refers to fd 1, but 1 fds came with the message`],
  ['no-fd-at-all', s => `Dropped a buffer from ${S(s)}: memory 0 refers to fd 0, but 0 fds came with the message`],
  ['memory-count-lies', s => `Dropped a malformed message from ${S(s)}: buffer item announces 40 memories in 112 bytes`],
  ['too-many-memories', s => `Dropped a malformed message from ${S(s)}: buffer with 65 memories (at most 64)`],
  ['unknown-memory-kind', s => `Dropped a malformed message from ${S(s)}: memory 0 of unknown kind 9`],
  ['pipe-fd', s => `Dropped a buffer from ${S(s)}: memory 0 is on an fd that is not mappable memory`],
  ['socket-fd', s => `Dropped a buffer from ${S(s)}: memory 0 is on an fd that is not mappable memory`],
  ['directory-fd', s => `Dropped a buffer from ${S(s)}: memory 0 is on an fd that is not mappable memory`],
  ['beyond-the-fd', s => `Dropped a buffer from ${S(s)}: memory 0 claims 1048576 bytes of an fd of 64`],
  ['offset-overflow', s => `Dropped a buffer from ${S(s)}: memory 0 spans 18446744073709551607+64 beyond its 64 bytes`],
  ['size-overflow', s => `Dropped a buffer from ${S(s)}: memory 0 spans 0+18446744073709551615 beyond its 64 bytes`],
  ['unsealable-memfd', s => `Dropped a buffer from ${S(s)}: memory 0 is on a file that is not sealed against shrinking`],
  ['video-meta-planes', s => `Dropped a malformed message from ${S(s)}: video meta with 7 planes`],
  ['video-meta-beyond', s => `Dropped a buffer from ${S(s)}: its video meta (I420 64x64) does not fit: a plane reaches past the end of the buffer`],
  ['video-meta-format', s => `Dropped a buffer from ${S(s)}: its video meta (? 8x8) does not fit: unknown video format`],
  ['video-meta-short', s => `Dropped a malformed message from ${S(s)}: video meta item of 8 bytes is too short`],
  ['roi-type-beyond', s => `Dropped a malformed message from ${S(s)}: malformed region of interest: region-of-interest type beyond the record`],
  ['roi-not-utf8', s => `Dropped a malformed message from ${S(s)}: malformed region of interest:`],
  ['inline-mismatch', s => `Dropped a malformed message from ${S(s)}: inline memories of 10 bytes with 5 bytes of data`],
  ['item-length-lies', s => `Dropped a malformed message from ${S(s)}: item 0x51540002 claims 1073741824 bytes`],
  ['length-record-lies', s => `The sender on "${s}" broke the framing (a record of another size than announced, or fds on a length record)`],
  ['fds-on-length-record', s => `The sender on "${s}" broke the framing (a record of another size than announced, or fds on a length record)`],
  ['huge-length', s => `The sender on "${s}" broke the framing (a length beyond 16 MiB)`],
]

/** runs test/peers/injector.py against a live receiver; counts the receiver's open fds once the first
 *  canary is in (one sender connected) and once every message is sent and its buffers freed */
async function inject(t: ExecutionContext, sock: string, args: string[]) {
  // every message the native decoder takes is checked against the element's own answer (plugin/helper/src.c)
  const receiver = new Launch(`qtisocketsrc socket=${sock} ! checksumsink`, { debug: DEBUG, env: { QTISOCKET_NATIVE_CHECK: '1' } })
  await receiver.waitFor(/listening on/)
  const injector = new Peer('injector.py', [sock, ...args])
  await injector.waitFor('canary 100')
  await receiver.waitForFrames(1)
  await sleep(300)
  const baseline = openFds(receiver.pid).length
  await injector.waitFor('sent all', 120000)
  await sleep(500)
  const after = openFds(receiver.pid).length
  injector.write('go\n')
  t.is(await injector.exited, 0, injector.out)
  const r = await receiver.wait(30000)
  t.is(r.code, 0, r.out)
  return { r, injector, baseline, after }
}

test('hostile messages are each dropped with a warning saying why; valid buffers after them arrive; no crash, no fd leak', async t => {
  const sock = socketPath('hostile')
  const { r, injector, baseline, after } = await inject(t, sock, [])

  t.true(after <= baseline, `receiver fds: ${baseline} with one sender connected, ${after} after every case`)
  t.regex(injector.out, /shrink refused: sealed by the receiver/)
  // the canaries, and the two valid cases (too many fds: the extra ones are closed; a memfd sealed by us)
  const bytes = [100, ...Array.from({ length: 30 }, (_, i) => i + 1), 150, 31, 151, 32]
  t.deepEqual(parseChecksums(r.out).map(c => c.sha1), bytes.map(sha1))
  t.deepEqual(injector.lines('hung up'), ['hung up no-greeting', 'hung up length-record-lies',
    'hung up fds-on-length-record', 'hung up huge-length'])
  // every case named in order, with the receiver's reason
  let at = 0
  for (const [name, text] of EXPECTED) {
    const i = r.out.indexOf(text(sock), at)
    t.true(i >= 0, `${name}: "${text(sock)}" after byte ${at} of the receiver's output`)
    if (i >= 0)
      at = i
  }
  t.is(injector.lines('case ').length, EXPECTED.length + 2)
  t.notRegex(r.out, /CRITICAL|SIGBUS|SIGSEGV|otherwise than the element/)
  // the cases shaped like the valid buffers before them (lies about sizes, offsets, fds) met the
  // fast path, which answers without JavaScript: the helper's own checks refused them
  t.true(stoppedStats(r.out, 'qtisocketsrc')['fast-path'] > 10)
})

/** what the receiver says of each lie about the fd cache (protocol 1.2), in order */
const CACHED: Array<[string, (sock: string) => string]> = [
  ['cached-unknown-id', s => `Dropped a buffer from ${S(s)}: memory 0 names fd 77, which the sender has not sent on ` +
    'this connection (or has made us forget)'],
  ['cached-fds-count', s => `Dropped a malformed message from ${S(s)}: 1 fds came with it, but its FDS item names 2`],
  ['cached-id-zero', s => `Dropped a buffer from ${S(s)}: it names a new fd 0, which is not an id`],
  ['cached-forgotten', s => `Dropped a buffer from ${S(s)}: memory 0 names fd 1004, which the sender has not sent`],
  ['cached-pipe', s => `Dropped a buffer from ${S(s)}: memory 0 is on an fd that is not mappable memory`],
  ['cached-pipe-again', s => `Dropped a buffer from ${S(s)}: memory 0 is on an fd that is not mappable memory`],
  ['cached-beyond', s => `Dropped a buffer from ${S(s)}: memory 0 claims 1048576 bytes of an fd of 64`],
  ['cached-overflow', s => `Dropped a buffer from ${S(s)}: the sender keeps more than 1024 fds cached`],
]

/** what the receiver says of each lie on the vendor's wire, in order */
const V = (s: string) => `Dropped a malformed message from ${S(s)} (the vendor's wire): `
const VENDOR: Array<[string, (sock: string) => string]> = [
  ['vendor-no-info', s => `${V(s)}vendor message without BUFFER_INFO`],
  ['vendor-no-block', s => `${V(s)}vendor buffer without a memory block`],
  ['vendor-truncated', s => `${V(s)}truncated vendor struct 2 at byte 8`],
  ['vendor-planes', s => `${V(s)}frame with 9 planes`],
  ['vendor-text-long', s => `${V(s)}text of 5000 bytes in a field of 1024`],
  ['vendor-fd-count', s => `${V(s)}FD_COUNT of -5`],
  ['vendor-fds-mismatch', s => `${V(s)}2 fds for 1 memory blocks that are not cached`],
  ['vendor-unknown-id', s => `Dropped a buffer from ${S(s)}: memory 0 names fd 77, which the sender has not sent`],
  ['vendor-beyond', s => `Dropped a buffer from ${S(s)}: memory 0 claims 1048576 bytes of an fd of 64`],
  ['vendor-pipe', s => `Dropped a buffer from ${S(s)}: memory 0 is on an fd that is not mappable memory`],
  ['vendor-meta-beyond', s => `Dropped a buffer from ${S(s)}: its video meta (GRAY8 8x8) does not fit: a plane reaches ` +
    'past the end of the buffer'],
]

for (const [wire, flag, cases] of [['protocol 1.2, lies about the fd cache', '--cached', CACHED],
  ['the vendor\'s wire, lies in its structs', '--vendor', VENDOR]] as const) {
  test(`${wire}: each dropped with a warning saying why; valid buffers after them arrive; no fd leak`, async t => {
    const sock = socketPath('hostile-cases')
    const { r, baseline, after } = await inject(t, sock, [flag])
    t.true(after <= baseline, `receiver fds: ${baseline} with one sender connected, ${after} after every case`)
    t.deepEqual(parseChecksums(r.out).map(c => c.sha1), [100, ...cases.map((_, i) => i + 1)].map(sha1))
    let at = 0
    for (const [name, text] of cases) {
      const i = r.out.indexOf(text(sock), at)
      t.true(i >= 0, `${name}: "${text(sock)}" after byte ${at} of the receiver's output`)
      if (i >= 0)
        at = i + 1
    }
    t.notRegex(r.out, /CRITICAL|SIGBUS|SIGSEGV|otherwise than the element/)
  })
}

const RANDOM = Number(process.env.QTISOCKET_RANDOM ?? 3000)

for (const [wire, args] of [['', ['--random', String(RANDOM), '7']],
  ['protocol 1.2 (cache ids too): ', ['--cached', '--random', String(RANDOM), '11']],
  ['the vendor\'s wire: ', ['--vendor', '--random', String(RANDOM), '13']]] as const) {
  test(`${wire}${RANDOM} randomly damaged messages with random fds: the receiver stays up, the next valid buffer ` +
    'arrives, no fd leak', async t => {
    const { r, injector, baseline, after } = await inject(t, socketPath('random'), [...args])
    const frames = parseChecksums(r.out)
    t.is(frames[0]!.sha1, sha1(100))
    t.is(frames[frames.length - 1]!.sha1, sha1(200), 'the valid buffer after the damaged ones arrives, last')
    t.true(after <= baseline, `receiver fds: ${baseline} before, ${after} after`)
    t.notRegex(r.out, /CRITICAL|SIGBUS|SIGSEGV|otherwise than the element/)
    t.log(`${frames.length - 2} damaged messages still made valid buffers; ${injector.lines('hang-ups')[0]}; ` +
      `${(r.out.match(/^WARNING/gm) ?? []).length} warnings`)
  })
}
