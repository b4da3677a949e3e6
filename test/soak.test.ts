// The soak script (scripts/soak.ts, `npm run soak` runs 1,000,000 small buffers and 10 minutes of 1080p)
// in a short version: open fds flat from the warm-up on, as in the long run; RSS only within 64 MiB,
// since the embedded JS heap has not levelled yet this early (it catches a leak of a frame per frame,
// not a slow one: the long run is for those). Open fds may grow while the sender's memfd pool grows to
// its peak of buffers in flight, which this early may come late in the run (a loaded machine that
// stalls the receiver for a few frames): at most the sink's max-in-flight (16) more memfds, each open
// in the sender and cached by the receiver, and the pool's 2 spare. A leak of an fd per buffer would
// add thousands.
import test from 'ava'
import { spawn } from 'child_process'
import * as path from 'path'
import { diesWithUs, gstEnv, ROOT } from './helpers'

test('soak, short: 600,000 small buffers and 12 s of 1080p; fds and RSS of both processes stay flat', async t => {
  t.timeout(300_000) // about 35 s here; a loaded machine takes longer
  const r = await new Promise<{ status: number | null, stdout: string, stderr: string }>(resolve => {
    const [command, ...rest] = diesWithUs(['node', path.join(ROOT, 'dist', 'scripts', 'soak.js'), '--small', '600000',
      '--seconds', '12', '--warmup', '2', '--rss-slack-kib', '65536', '--fd-slack', '18'])
    const p = spawn(command!, rest, { env: gstEnv() })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => p.kill('SIGKILL'), 280_000)
    p.on('close', status => { clearTimeout(timer); resolve({ status, stdout, stderr }) })
  })
  t.log(r.stdout)
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /^soak: flat$/m)
  t.is((r.stdout.match(/: flat$/gm) ?? []).length, 5, r.stdout) // 2 processes x 2 phases, and the verdict
  t.regex(r.stdout, /600000 small buffers: .* sent=\(guint64\)600000, returned=\(guint64\)600000/)
  // the lean hot path: a handful of JS calls in all (start, caps, greeting, the first buffers, until
  // every fd is cached), and each fd of the pool sent once
  const small = r.stdout.match(/600000 small buffers: .*fds-sent=\(guint64\)(\d+), js-calls=\(guint64\)(\d+)/)
  t.truthy(small, r.stdout)
  t.true(Number(small![1]) < 40, `${small![1]} fds sent for 600,000 buffers`)
  t.true(Number(small![2]) < 60, `${small![2]} JS calls in the sender for 600,000 buffers`)
})
