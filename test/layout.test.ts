// The wire's records are declared once (lib/protocol/layout.ts): TypeScript lays them out from the
// table, and the C header (plugin/helper/layout.h, with a static assertion on every offset) is
// generated from it. These tests keep the two and the wire's documented sizes in step.
import test from 'ava'
import * as fs from 'fs'
import * as path from 'path'
import { LAYOUT, layoutHeader, readRecord, writeRecord } from '../lib/protocol/layout'
import { VENDOR_SIZES, VendorId } from '../lib/protocol/vendor'
import { ROOT } from './helpers'

test('plugin/helper/layout.h is the header lib/protocol/layout.ts makes (node dist/scripts/gen-layout.js)', t => {
  t.is(fs.readFileSync(path.join(ROOT, 'plugin', 'helper', 'layout.h'), 'utf8'), layoutHeader())
})

test('the records have the sizes docs/protocol.md and the vendor\'s wire give', t => {
  t.is(LAYOUT.item.size, 8)
  t.is(LAYOUT.hello.size, 8)
  t.is(LAYOUT.buffer.size, 80)
  t.is(LAYOUT.buffer.offset.n_memories, 52)
  t.is(LAYOUT.buffer.offset.running_pts, 56)
  t.is(LAYOUT.memory.size, 32)
  t.is(LAYOUT.videoMeta.size, 72)
  t.is(LAYOUT.roi.size, 32)
  t.is(LAYOUT.release.size, 8)
  t.is(LAYOUT.vendorBufferInfo.size, VENDOR_SIZES[VendorId.BufferInfo])
  t.is(LAYOUT.vendorFrame.size, VENDOR_SIZES[VendorId.Frame])
  t.is(LAYOUT.vendorFrame.offset.size, 72)
  t.is(LAYOUT.vendorTensor.size, VENDOR_SIZES[VendorId.Tensor])
  t.is(LAYOUT.vendorText.size, VENDOR_SIZES[VendorId.Text])
  t.is(LAYOUT.vendorReturnBuffer.size, VENDOR_SIZES[VendorId.ReturnBuffer])
  t.is(LAYOUT.vendorFdCount.size, VENDOR_SIZES[VendorId.FdCount])
  t.is(LAYOUT.vendorRoiMeta.size, VENDOR_SIZES[VendorId.RoiMeta])
  t.is(LAYOUT.vendorRoiMeta.offset.detection_length, 316)
  t.is(LAYOUT.vendorRoiMeta.offset.extra_length, 580)
  // the description the helper and the element exchange starts as BUFFER does; its timing fields
  // follow each other in both
  t.is(LAYOUT.desc.size, 104)
  for (const field of ['id', 'pts', 'dts', 'duration', 'offset', 'offset_end', 'flags', 'n_memories'])
    t.is(LAYOUT.desc.offset[field], LAYOUT.buffer.offset[field], field)
  for (const r of [LAYOUT.desc, LAYOUT.buffer]) {
    t.is(r.offset.running_dts! - r.offset.running_pts!, 8)
    t.is(r.offset.base_monotonic! - r.offset.running_pts!, 16)
  }
})

test('a record written by name reads back by name', t => {
  const bytes = new Uint8Array(LAYOUT.vendorFrame.size)
  const v = new DataView(bytes.buffer)
  writeRecord(v, 0, 'vendorFrame', { identity: 3, width: 1920, height: 1080, format: 23, n_planes: 2,
    offsets: [0n, 2073600n], strides: [1920, 1920], size: 3110400n, maxsize: 3112960n })
  const r = readRecord(v, 0, 'vendorFrame')
  t.like(r, { identity: 3, width: 1920, height: 1080, format: 23, n_planes: 2, size: 3110400n, maxsize: 3112960n })
  t.deepEqual(r.offsets, [0n, 2073600n, 0n, 0n])
  t.deepEqual(r.strides, [1920, 1920, 0, 0])
  t.is(v.getBigUint64(72, true), 3110400n)
})
