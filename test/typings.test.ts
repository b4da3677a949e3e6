// lib/ compiles strict (tsconfig: strict, noImplicitAny) against the hand-kept types of typings/ for
// node-gtk and the GI namespaces of the project (GObject, Gst, GstBase, GstVideo, GstAllocators). This
// checks that nothing opts out with an explicit `any`, and that the types match what node-gtk really
// gives at run time (sizes as bigints, out-arguments as arrays...), on plain GStreamer objects.
import test from 'ava'
import * as fs from 'fs'
import * as gi from 'node-gtk'
import * as os from 'os'
import * as path from 'path'
import { ROOT } from './helpers'

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e =>
    e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [])
}

test('no explicit any in lib/, typings/ or examples/', t => {
  const offenders: string[] = []
  for (const f of ['lib', 'typings', 'examples'].flatMap(d => files(path.join(ROOT, d)))) {
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '').replace(/'[^']*'|"[^"]*"|`[^`]*`/g, '')
      if (/(:\s*any\b|\bas any\b|<any>|\bany\[\])/.test(code))
        offenders.push(`${path.relative(ROOT, f)}:${i + 1}: ${line.trim()}`)
    })
  }
  t.deepEqual(offenders, [])
})

test('the GstVideo and GstAllocators types match node-gtk at run time', t => {
  const Gst = gi.require('Gst', '1.0')
  const GstVideo = gi.require('GstVideo', '1.0')
  const GstAllocators = gi.require('GstAllocators', '1.0')
  if (!Gst.isInitialized())
    Gst.init(null)
  const caps = Gst.Caps.fromString('video/x-raw,format=I420,width=320,height=240,framerate=30/1')
  const info = GstVideo.VideoInfo.newFromCaps(caps)
  t.is(info.finfo.name, 'I420')
  t.is(info.size, 115200n)
  t.deepEqual(info.stride.slice(0, 3), [320, 160, 160])
  const buffer = Gst.Buffer.newAllocate(null, info.size, null)
  t.is(buffer.getSize(), 115200n)
  const meta = GstVideo.bufferAddVideoMeta(buffer, GstVideo.VideoFrameFlags.NONE, GstVideo.VideoFormat.I420, 320, 240)
  t.is(meta.nPlanes, 3)
  t.deepEqual(GstVideo.bufferGetVideoMeta(buffer)!.offset.slice(0, 3), [0n, 76800n, 96000n])
  const roi = GstVideo.bufferAddVideoRegionOfInterestMeta(buffer, 'face', 1, 2, 3, 4)
  t.like(roi, { x: 1, y: 2, w: 3, h: 4 })
  t.is(GstVideo.bufferGetVideoRegionOfInterestMetaId(buffer, roi.id)!.w, 3)
  const [structure] = Gst.Structure.fromString('detection, label=(string)face')
  t.is(structure.getName(), 'detection')

  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qtisocket-typings-')), 'mem')
  const fd = fs.openSync(file, 'w+')
  fs.ftruncateSync(fd, 4096)
  const memory = GstAllocators.FdAllocator.alloc(GstAllocators.FdAllocator.new(), fd, 4096,
    GstAllocators.FdMemoryFlags.DONT_CLOSE)
  t.true(GstAllocators.isFdMemory(memory))
  t.false(GstAllocators.isDmabufMemory(memory))
  t.is(GstAllocators.fdMemoryGetFd(memory), fd)
  t.is(memory.size, 4096n)
  buffer.appendMemory(memory)
  t.is(buffer.nMemory(), 2)
  fs.closeSync(fd)
})
