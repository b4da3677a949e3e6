// scripts/install.sh: the plugin installed for a user (XDG_DATA_HOME/gstreamer-1.0/plugins) works with
// no GST_PLUGIN_PATH, from any folder, finds all it needs relative to itself, replaces an older
// install whole and goes away with --uninstall. (scripts/clean-room.sh also checks --system, with the
// source tree moved away.)
import test from 'ava'
import { spawn } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { diesWithUs, parseChecksums, ROOT } from './helpers'

interface Run { code: number | null, out: string }
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs = 180000): Promise<Run> {
  return new Promise(resolve => {
    const [cmd, ...rest] = diesWithUs([command, ...args])
    const child = spawn(cmd!, rest, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.stderr.on('data', d => { out += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', code => { clearTimeout(timer); resolve({ code, out }) })
  })
}

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => e.isDirectory()
    ? allFiles(path.join(dir, e.name)) : e.isFile() ? [path.join(dir, e.name)] : [])
}

test('install.sh --user: gst-inspect, gst-launch and Python find the plugin with no GST_PLUGIN_PATH; reinstall replaces; uninstall removes', async t => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-install-'))
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_DATA_HOME: path.join(home, 'share'),
    XDG_CACHE_HOME: path.join(home, 'cache'), GST_DEBUG_NO_COLOR: '1' }
  for (const v of ['GST_PLUGIN_PATH', 'GST_PLUGIN_PATH_1_0', 'GST_REGISTRY', 'GST_REGISTRY_1_0', 'QTISOCKET_ROOT', 'QTISOCKET_HOST_DIR'])
    delete env[v]
  const plugins = path.join(home, 'share', 'gstreamer-1.0', 'plugins')
  const support = path.join(home, 'share', 'gstreamer-1.0', 'qtisocket-ts')
  const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-cwd-'))

  let r = await run('bash', [path.join(ROOT, 'scripts', 'install.sh'), '--user'], env, elsewhere)
  t.is(r.code, 0, r.out)
  t.true(fs.existsSync(path.join(plugins, 'libgstqtisocketts.so')))
  // GStreamer scans the plugin folder: it holds the shim alone
  t.deepEqual(fs.readdirSync(plugins), ['libgstqtisocketts.so'])
  // the libnode and the node-gtk binding of the Node it embeds: what setup found (build/libnode/info)
  const info = Object.fromEntries(fs.readFileSync(path.join(ROOT, 'build', 'libnode', 'info'), 'utf8').trim().split('\n')
    .map(l => l.split('=', 2)))
  for (const f of ['libqtisocket-host.host', path.basename(info.LIBNODE_LIB), 'qtisocket_native.node', 'dist/lib/host.js', 'MANIFEST',
    `node_modules/node-gtk/lib/binding/node-v${info.LIBNODE_ABI}-${process.platform}-${process.arch}/node_gtk.node`])
    t.true(fs.existsSync(path.join(support, f)), f)
  // nothing of ours names the source tree: the plugin finds its parts relative to itself
  const ours = [path.join(plugins, 'libgstqtisocketts.so'), ...['libqtisocket-host.host', 'qtisocket_native.node']
    .map(f => path.join(support, f)), ...allFiles(path.join(support, 'dist'))]
  for (const f of ours)
    t.is(fs.readFileSync(f).indexOf(ROOT + '/'), -1, `${f} contains ${ROOT}`)

  // an install over an older one replaces it whole
  fs.writeFileSync(path.join(support, 'left-by-an-older-install.js'), '')
  r = await run('bash', [path.join(ROOT, 'scripts', 'install.sh'), '--user'], env, elsewhere)
  t.is(r.code, 0, r.out)
  t.false(fs.existsSync(path.join(support, 'left-by-an-older-install.js')))
  t.deepEqual(fs.readdirSync(path.dirname(support)).sort(), ['plugins', 'qtisocket-ts'], 'no staging folder left')

  r = await run('gst-inspect-1.0', ['qtisocketsink'], env, elsewhere)
  t.is(r.code, 0, r.out)
  t.regex(r.out, new RegExp(`Filename\\s+${plugins}/libgstqtisocketts.so`))

  const caps = 'video/x-raw,format=NV12,width=320,height=240,framerate=30/1'
  const sock = path.join(elsewhere, 'installed.sock')
  const [reference, both] = await Promise.all([
    run('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=20', 'pattern=ball', '!', caps, '!', 'checksumsink'], env, elsewhere),
    run('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=20', 'pattern=ball', '!', caps, '!', 'qtisocketsink', `socket=${sock}`,
      'qtisocketsrc', `socket=${sock}`, '!', 'checksumsink'], env, elsewhere),
  ])
  t.is(both.code, 0, both.out)
  t.is(parseChecksums(both.out).length, 20, both.out)
  t.deepEqual(parseChecksums(both.out).map(c => c.sha1), parseChecksums(reference.out).map(c => c.sha1))

  const gi = path.join(ROOT, 'test', 'peers', 'gi_pair.py')
  const giSock = path.join(elsewhere, 'gi.sock')
  const [receiver, sender] = await Promise.all([
    run('/usr/bin/python3', [gi, 'receiver', giSock], env, elsewhere, 60000),
    run('/usr/bin/python3', [gi, 'sender', giSock, '10'], env, elsewhere, 60000),
  ])
  t.is(sender.code, 0, sender.out)
  t.is(receiver.code, 0, receiver.out)
  t.is(receiver.out.split('\n').filter(l => /^\d+ [0-9a-f]{40}$/.test(l)).length, 10, receiver.out)

  r = await run('bash', [path.join(ROOT, 'scripts', 'install.sh'), '--user', '--uninstall'], env, elsewhere)
  t.is(r.code, 0, r.out)
  t.false(fs.existsSync(path.join(plugins, 'libgstqtisocketts.so')))
  t.false(fs.existsSync(support))
  r = await run('gst-inspect-1.0', ['qtisocketsink'], env, elsewhere)
  t.not(r.code, 0, r.out)
  fs.rmSync(home, { recursive: true, force: true })
  fs.rmSync(elsewhere, { recursive: true, force: true })
})
