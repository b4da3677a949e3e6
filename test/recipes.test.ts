// The recipes of docs/recipes.md run as written (scripts/recipes), in a private work folder, and do
// what they say: a decoded video encoded in another process; boxes found, drawn and shown (headless:
// PNG files) in another process; tensors and subtitles between processes.
import anyTest from 'ava'
import { spawnSync } from 'child_process'
import * as fs from 'fs'
import * as os from 'os'
import * as path from 'path'
import { gstEnv, ROOT } from './helpers'

const test = anyTest.serial
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-recipes-'))

function recipe(name: string, args: string[] = []) {
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'recipes', name), ...args],
    { env: gstEnv({ WORK: work }), encoding: 'utf8', timeout: 90000 })
  return { code: r.status, out: r.stdout + r.stderr }
}

test('recipe (a): frames decoded from video.mp4 in one process are encoded to an MP4 in another, zero-copy', t => {
  const r = recipe('encode.sh')
  t.is(r.code, 0, r.out)
  t.regex(r.out, /sender: qtisocketsink-stats, sent=\(guint64\)150, returned=\(guint64\)150,.* copied=\(guint64\)0,/)
  // 150 frames of 1/30 s: 5 s, the first one (the preroll frame) placed at the instant it was sent
  t.regex(r.out, /Duration: 0:00:0(4\.9|5\.0)/)
  t.regex(r.out, /Width: 640/)
  t.true(fs.statSync(path.join(work, 'encoded.mp4')).size > 10000)
})

test('recipe (b): the second process finds the ball, draws its box over the frame and shows it (PNG files)', t => {
  const r = recipe('analyze.sh')
  t.is(r.code, 0, r.out)
  const log = fs.readFileSync(path.join(work, 'analyze-receiver.log'), 'utf8')
  const boxes = [...log.matchAll(/^frame (\d+) box (\d+),(\d+) (\d+)x(\d+)$/gm)].map(m => m.slice(1).map(Number))
  t.is(boxes.length, 150, log)
  t.true(new Set(boxes.map(b => `${b[1]},${b[2]}`)).size > 100, 'the ball moves, the box follows')
  t.true(boxes.every(([, , , w, h]) => w! >= 30 && w! <= 45 && h! >= 30 && h! <= 45), 'a ball-sized box')
  t.is(fs.readdirSync(path.join(work, 'analyzed')).filter(f => f.endsWith('.png')).length, 150)

  // frame 74 as the viewer shows it: white box edges 3 pixels out from the ball, black elsewhere
  const [, x, y, w, h] = boxes[74]!
  const raw = path.join(work, 'frame-074.gray')
  const d = spawnSync('gst-launch-1.0', ['-q', 'filesrc', `location=${path.join(work, 'analyzed', 'frame-074.png')}`, '!',
    'pngdec', '!', 'videoconvert', '!', 'video/x-raw,format=GRAY8', '!', 'filesink', `location=${raw}`], { env: gstEnv() })
  t.is(d.status, 0, String(d.stderr))
  const gray = fs.readFileSync(raw)
  const at = (px: number, py: number) => gray[py * 640 + px]! // 640 is a multiple of 4: no row padding
  t.is(gray.length, 640 * 360)
  t.true(at(x! - 3, y! + (h! >> 1)) > 200, 'left edge of the box')
  t.true(at(x! + w! + 2, y! + (h! >> 1)) > 200, 'right edge of the box')
  t.true(at(x! + (w! >> 1), y! - 3) > 200, 'top edge of the box')
  t.true(at(x! + (w! >> 1), y! + (h! >> 1)) > 200, 'the ball')
  t.true(at(x! - 1, y! + (h! >> 1)) < 50, 'between box and ball: background')
})

test('recipe (c): one camera process serves a recorder, a viewer that comes and goes and a slower inference stage; the camera\'s pipeline never changes, nothing is copied', t => {
  const r = recipe('serve.sh')
  t.is(r.code, 0, r.out)
  t.regex(r.out, /camera: qtisocketsink-stats, .*bytes-copied=\(guint64\)0,.*connections=\(guint64\)4,/)
  // the recorder, there from the first frame, got all 240; the viewers lost nothing while they watched
  t.regex(r.out, /recorder: qtisocketsrc-stats, received=\(guint64\)240, returned=\(guint64\)240,/)
  t.regex(r.out, /receiver 1 \(qtisocket-ts [\d.]+\) left: sent 240, returned 240, skipped 0/)
  t.regex(r.out, /receiver 3 \(qtisocket-ts [\d.]+\) left: sent \d+, returned \d+, skipped 0/)
  t.regex(r.out, /receiver 4 \(qtisocket-ts [\d.]+\) left: sent \d+, returned \d+, skipped 0/)
  // the inference stage (5 frames/s) missed what it could not take
  const skipped = Number(/camera: .*skipped=\(guint64\)(\d+)/.exec(r.out)?.[1])
  const inferred = Number(/inference: qtisocketsrc-stats, received=\(guint64\)(\d+)/.exec(r.out)?.[1])
  t.true(skipped > 100 && inferred < 60, `skipped ${skipped}, inference received ${inferred}`)
  t.regex(r.out, /Duration: 0:00:0[78]\./)
})

test('recipes: tensors (one memory per tensor) and subtitles cross between processes with their timing', t => {
  const r = recipe('tensors-and-text.sh')
  t.is(r.code, 0, r.out)
  t.deepEqual(r.out.split('\n').filter(l => l.startsWith('tensors ')), [0, 1, 2, 3, 4].map(n =>
    `tensors [160, 10] first box [${n}.0, ${n}.1, ${n}.2, ${n}.3] first scores [${n * 10}, ${n * 10 + 1}, ${n * 10 + 2}]`))
  t.regex(r.out, /28 bytes, pts: [\d:.]+, duration: 0:00:01\.000000000/)
  t.regex(r.out, /40 bytes, pts: [\d:.]+, duration: 0:00:01\.000000000/)
  t.regex(r.out, /text: A ball enters from the left\.It bounces, and the receiver knows when\./)
})
