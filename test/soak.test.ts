// The soak script (scripts/soak.ts, `npm run soak` runs 1,000,000 small buffers and 10 minutes of 1080p)
// in a short version: open fds flat from the warm-up on, as in the long run; RSS only within 64 MiB,
// since the embedded JS heap has not levelled yet this early (it catches a leak of a frame per frame,
// not a slow one: the long run is for those). Open fds may grow by a few while the sender's memfd pool
// grows to its peak of buffers in flight this early (each pooled memfd is then cached by the receiver
// too): a leak of an fd per buffer would add thousands.
import test from 'ava'
import { spawnSync } from 'child_process'
import * as path from 'path'
import { gstEnv, ROOT } from './helpers'

test('soak, short: 600,000 small buffers and 12 s of 1080p; fds and RSS of both processes stay flat', t => {
  const r = spawnSync('node', [path.join(ROOT, 'dist', 'scripts', 'soak.js'), '--small', '600000', '--seconds', '12',
    '--warmup', '2', '--rss-slack-kib', '65536', '--fd-slack', '8'], { env: gstEnv(), encoding: 'utf8', timeout: 110000 })
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
