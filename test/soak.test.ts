// The soak script (scripts/soak.ts, `npm run soak` runs 1,000,000 small buffers and 10 minutes of 1080p)
// in a short version: the same checks, open fds and RSS of both processes flat from the warm-up on.
import test from 'ava'
import { spawnSync } from 'child_process'
import * as path from 'path'
import { gstEnv, ROOT } from './helpers'

test('soak, short: 50,000 small buffers and 12 s of 1080p; fds and RSS of both processes stay flat', t => {
  const r = spawnSync('node', [path.join(ROOT, 'dist', 'scripts', 'soak.js'), '--small', '50000', '--seconds', '12',
    '--warmup', '2'], { env: gstEnv(), encoding: 'utf8', timeout: 110000 })
  t.is(r.status, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /^soak: flat$/m)
  t.is((r.stdout.match(/: flat$/gm) ?? []).length, 5, r.stdout) // 2 processes x 2 phases, and the verdict
  t.regex(r.stdout, /50000 small buffers: .* sent=\(guint64\)50000, returned=\(guint64\)50000/)
})
