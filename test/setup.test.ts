// scripts/setup.sh on a system without a usable shared libnode: it says which package it looked for and
// what it found instead, exits non-zero, and leaves nothing half-built that a second run trips over.
// The system is this one, but for apt: a stand-in apt-cache / apt-get earlier on PATH answers as a
// release without libnode-dev would, or as one whose libnode cannot be downloaded. setup.sh runs from a
// copy of scripts/ in a scratch folder, so this tree's build/ is not touched.
import test from 'ava'
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { ROOT } from './helpers'

/** a scratch project (scripts/setup.sh and elements.txt) and a bin/ whose apt-cache/apt-get answer `apt` */
function scratch(apt: { depends: string, pkgnames: string, download: boolean }): { dir: string, env: NodeJS.ProcessEnv } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-setup-'))
  fs.mkdirSync(path.join(dir, 'scripts'))
  for (const f of ['setup.sh', 'elements.txt'])
    fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(dir, 'scripts', f))
  const bin = path.join(dir, 'bin')
  fs.mkdirSync(bin)
  fs.writeFileSync(path.join(bin, 'apt-cache'), `#!/bin/sh
case "$1 $3" in
  "depends libnode-dev") printf '%s' '${apt.depends}' ;;
  "depends "*) exit 0 ;;
esac
case "$1" in
  policy) printf 'libnode-dev:\\n  Installed: (none)\\n  Candidate: (none)\\n' ;;
  pkgnames) printf '%s' '${apt.pkgnames}' ;;
esac
exit 0
`, { mode: 0o755 })
  fs.writeFileSync(path.join(bin, 'apt-get'), `#!/bin/sh
case "$1" in
  update) exit 0 ;;
  download) ${apt.download ? 'exit 0' : 'echo "E: Unable to locate package $2" >&2; exit 100'} ;;
esac
echo "apt-get $* was not expected here" >&2
exit 1
`, { mode: 0o755 })
  return { dir, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } }
}

function setup(dir: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync('bash', [path.join(dir, 'scripts', 'setup.sh')], { env, encoding: 'utf8', timeout: 120000 })
  return { code: r.status, out: r.stdout + r.stderr }
}

test('no libnode-dev in apt: set-up names what it looked for and what it found, exits non-zero, twice alike, nothing half-built', t => {
  const { dir, env } = scratch({ depends: '', pkgnames: 'libnode72\n', download: false })
  const first = setup(dir, env)
  t.not(first.code, 0, first.out)
  t.regex(first.out, /no shared libnode: looked for the package 'libnode-dev' and the libnode<ABI> it depends on/)
  t.regex(first.out, /found instead: libnode-dev candidate \(none\) packages: libnode72/)
  t.regex(first.out, /Debian 12 \(libnode108, Node 18\) or Debian 13 \(libnode115, Node 20\)/)
  t.false(fs.existsSync(path.join(dir, 'build', 'libnode')), 'no build/libnode')
  const second = setup(dir, env)
  t.is(second.code, first.code)
  t.regex(second.out, /no shared libnode: looked for the package 'libnode-dev'/)
})

test('a libnode that cannot be downloaded: set-up says so, exits non-zero, and leaves no partial unpack behind', t => {
  const { dir, env } = scratch({ depends: 'libnode-dev\n  Depends: libnode999\n', pkgnames: '', download: false })
  const first = setup(dir, env)
  t.not(first.code, 0, first.out)
  t.regex(first.out, /setup stopped: cannot download libnode999 libnode-dev/)
  t.deepEqual(fs.readdirSync(path.join(dir, 'build')).filter(f => f.startsWith('libnode')), [], 'no build/libnode nor .part')
  const second = setup(dir, env)
  t.is(second.code, first.code)
  t.regex(second.out, /setup stopped: cannot download libnode999 libnode-dev/)
})

test('a download that brings no libnode: set-up says what was missing from it and leaves nothing behind', t => {
  // apt-get download "succeeds" without writing a .deb: the unpacked tree has no libnode.so.* nor node.h
  const { dir, env } = scratch({ depends: 'libnode-dev\n  Depends: libnode999\n', pkgnames: '', download: true })
  const first = setup(dir, env)
  t.not(first.code, 0, first.out)
  t.regex(first.out, /libnode999 and libnode-dev unpacked, but no libnode\.so\.\* with node\.h and node_version\.h in them/)
  t.deepEqual(fs.readdirSync(path.join(dir, 'build')).filter(f => f.startsWith('libnode')), [], 'no build/libnode nor .part')
})
