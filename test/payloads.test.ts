// Tensors and text: N tensor memories arrive as N memories with their exact sizes and bytes; text
// arrives exact at any length (the vendor truncates at 1024 bytes).
import test from 'ava'
import { spawnSync } from 'child_process'
import * as crypto from 'crypto'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { DEBUG, gstEnv, Launch, ROOT, socketPath, waitAll } from './helpers'

test('neural-network/tensors: a buffer of 3 tensor memories arrives as 3 memories, sizes and bytes exact, caps in-band', t => {
  const r = spawnSync('/usr/bin/python3', [path.join(ROOT, 'test', 'peers', 'tensors.py'), socketPath('tensors'), '4'],
    { env: gstEnv(), encoding: 'utf8', timeout: 60000 })
  t.is(r.status, 0, r.stdout + r.stderr)
  const sent = r.stdout.split('\n').filter(l => l.startsWith('sent ')).map(l => l.slice(5))
  const got = r.stdout.split('\n').filter(l => l.startsWith('got ')).map(l => l.slice(4))
  t.is(sent.length, 4)
  t.deepEqual(got, sent)
  t.true(sent.every(l => /^150528:\w+ 4004:\w+ 7:\w+$/.test(l)))
  t.regex(r.stdout, /caps neural-network\/tensors, format=\(string\)static, num_tensors=\(int\)3, dimensions=\(string\)"3:224:224:1\\,1001:1\\,7:1"/)
})

for (const [what, size, blocksize] of [['a few bytes', 37, 16], ['1 KiB and more', 5000, 1500], ['2 MiB', 2 << 20, 1 << 20]] as const) {
  test(`text/x-raw: ${what} arrive exact between two processes`, async t => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-text-'))
    const input = path.join(dir, 'in.txt')
    const output = path.join(dir, 'out.txt')
    const text = Array.from({ length: size }, (_, i) => 'abcdefghijklmnopqrstuvwxyzé€'[i % 28]).join('').slice(0, size)
    fs.writeFileSync(input, text)
    const sock = socketPath('text')
    const receiver = new Launch(`qtisocketsrc socket=${sock} ! filesink location=${output}`, { debug: DEBUG })
    await receiver.waitFor(/listening on/)
    const [s, r] = await waitAll([new Launch(`filesrc location=${input} blocksize=${blocksize} ! ` +
      `text/x-raw,format=utf8 ! qtisocketsink socket=${sock} wait-for-connection=true sync=false`, { debug: DEBUG }),
    receiver], 30000)
    t.is(s.code, 0, s.out)
    t.is(r.code, 0, r.out)
    const hash = (f: string) => crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex')
    t.is(fs.statSync(output).size, fs.statSync(input).size)
    t.is(hash(output), hash(input))
    fs.rmSync(dir, { recursive: true })
  })
}
