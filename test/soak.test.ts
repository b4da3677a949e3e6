// The soak script (scripts/soak.ts, `npm run soak` runs 1,000,000 small buffers and 10 minutes of 1080p)
// in a short version: open fds flat from the warm-up on, as in the long run; RSS only within 64 MiB,
// since the embedded JS heap has not levelled yet this early (it catches a leak of a frame per frame,
// not a slow one: the long run is for those).
import test from 'ava'
import { spawnSync } from 'child_process'
import * as path from 'path'
import { gstEnv, ROOT } from './helpers'

test('soak, short: 150,000 small buffers and 12 s of 1080p; fds and RSS of both processes stay flat', t => {
  const r = spawnSync('node', [path.join(ROOT, 'dist', 'scripts', 'soak.js'), '--small', '150000', '--seconds', '12',
    '--warmup', '2', '--rss-slack-kib', '65536'], { env: gstEnv(), encoding: 'utf8', timeout: 110000 })
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /^soak: flat$/m)
  t.is((r.stdout.match(/: flat$/gm) ?? []).length, 5, r.stdout) // 2 processes x 2 phases, and the verdict
  t.regex(r.stdout, /150000 small buffers: .* sent=\(guint64\)150000, returned=\(guint64\)150000/)
})
