// The wire's fixed-size records, declared once (docs/protocol.md, ../shared/VENDOR-WIRE.md).
//
// TypeScript reads and writes them through this table (readRecord / writeRecord, offsets by name),
// and scripts/gen-layout.ts writes plugin/helper/layout.h from it: one packed C struct per record,
// with a static assertion on its size and on the offset of every field, so the C compiler refuses a
// struct that does not match the table. test/layout.test.ts checks that the committed header is the
// one this table makes. All integers are little-endian (the C side asserts a little-endian host).
export type FieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'u64'

export interface Field {
  name: string
  type: FieldType
  /** an array of that many */
  count?: number
}

export interface RecordDef {
  /** the C struct's name */
  c: string
  doc: string
  fields: Field[]
}

const f = (name: string, type: FieldType, count?: number): Field => (count ? { name, type, count } : { name, type })

/** our items' identities ("QT" in the high half): ITEM_BASE | n */
export const ITEM_BASE = 0x51540000
export const ITEMS = { hello: 1, caps: 2, buffer: 3, videoMeta: 4, release: 5, roiMeta: 6, data: 7, fds: 8, forget: 9 } as const

/** the vendor's structs by identity (their position), with their sizes; a parser of theirs stops at
 *  any other identity */
export const VENDOR_STRUCTS: ReadonlyArray<readonly [string, number]> = [['eos', 4], ['disconnect', 4], ['bufferInfo', 72],
  ['frame', 88], ['tensor', 60], ['text', 1044], ['returnBuffer', 44], ['fdCount', 8], ['protectionMeta', 1044],
  ['roiMeta', 588], ['classMeta', 9876], ['landmarksMeta', 4140]]
export const VENDOR_SIZES = VENDOR_STRUCTS.map(([, size]) => size)
/** what a receiver accepts (and a sender keeps to), in both languages */
export const LIMITS = {
  /** memories per buffer */
  memories: 64,
  /** regions of interest per buffer, parameters per region */
  rois: 256,
  roiParams: 64,
  /** bytes of caps */
  capsLength: 64 * 1024,
  /** a sender puts non-fd memory inline up to this many bytes per buffer; a receiver takes up to data */
  inlineSend: 4096,
  data: 1024 * 1024,
  /** fds per message, fds a receiver keeps cached per sender */
  fds: 64,
  cached: 1024,
  /** memory blocks per buffer on the vendor's wire (buf_id[10]) */
  vendorBlocks: 10,
  /** bytes of a message (framing) */
  message: 16 * 1024 * 1024,
} as const

/** upstream GStreamer's unixfd wire (unixfdsink/unixfdsrc, 1.24+; docs/unixfd-interop.md): the types of
 *  its commands, each a QsUnixfdCommand header sent with its fds, then its payload */
export const UNIXFD_COMMANDS = { newBuffer: 0, releaseBuffer: 1, caps: 2, eos: 3 } as const
/** GstVideoMeta's name and the version of its serialization that we read and write */
export const UNIXFD_VIDEO_META = 'GstVideoMeta'

/** a vendor struct's identity by name */
export const VENDOR_IDS: Record<string, number> = Object.fromEntries(VENDOR_STRUCTS.map(([name], i) => [name, i]))

const BUFFER_IDS = 10

/** every record of both wires, by the name TypeScript uses */
export const RECORDS = {
  item: { c: 'QsWireItem', doc: 'the header of our items (identity 0x5154xxxx); the body follows, padded to 4 bytes',
    fields: [f('identity', 'u32'), f('length', 'u32')] },
  hello: { c: 'QsWireHello', doc: 'HELLO\'s body; the UTF-8 software name follows',
    fields: [f('major', 'u16'), f('minor', 'u16'), f('features', 'u32')] },
  buffer: { c: 'QsWireBuffer', doc: 'BUFFER\'s body; a QsWireMemory per memory follows',
    fields: [f('id', 'u64'), f('pts', 'u64'), f('dts', 'u64'), f('duration', 'u64'), f('offset', 'u64'),
      f('offset_end', 'u64'), f('flags', 'u32'), f('n_memories', 'u32'), f('running_pts', 'u64'),
      f('running_dts', 'u64'), f('base_monotonic', 'u64')] },
  memory: { c: 'QsWireMemory', doc: 'one memory of BUFFER: the fd it is on (index among the message\'s fds; 1.2: ' +
    'the id the fd is cached by), its kind (1 fd, 2 DMA-BUF, 3 inline), and its span, as GstMemory\'s',
  fields: [f('fd', 'u32'), f('kind', 'u32'), f('offset', 'u64'), f('size', 'u64'), f('maxsize', 'u64')] },
  videoMeta: { c: 'QsWireVideoMeta', doc: 'VIDEO_META\'s body (GstVideoMeta)',
    fields: [f('format', 'u32'), f('width', 'u32'), f('height', 'u32'), f('n_planes', 'u32'), f('flags', 'u32'),
      f('reserved', 'u32'), f('offsets', 'u64', 4), f('strides', 'i32', 4)] },
  roi: { c: 'QsWireRoi', doc: 'the fixed part of ROI_META\'s body; the type, then per parameter a u32 length and ' +
    'the GstStructure as a string follow, each padded to 4 bytes',
  fields: [f('id', 'i32'), f('parent_id', 'i32'), f('x', 'u32'), f('y', 'u32'), f('w', 'u32'), f('h', 'u32'),
    f('type_length', 'u32'), f('n_params', 'u32')] },
  release: { c: 'QsWireRelease', doc: 'RELEASE\'s body; u64 buffer ids[count] follow',
    fields: [f('count', 'u32'), f('reserved', 'u32')] },

  desc: { c: 'QsDesc', doc: 'the description of a buffer that the helper and the element exchange (lib/protocol/desc.ts): ' +
    'this header, a QsWireMemory per memory, a QsWireVideoMeta if has_video_meta, per region of interest a u32 length ' +
    'then its ROI_META record, the inline bytes padded to 4, then the fd cache\'s section (fd_naming 1)',
  fields: [f('id', 'u64'), f('pts', 'u64'), f('dts', 'u64'), f('duration', 'u64'), f('offset', 'u64'),
    f('offset_end', 'u64'), f('flags', 'u32'), f('n_memories', 'u32'), f('has_video_meta', 'u32'), f('n_fds', 'u32'),
    f('running_pts', 'u64'), f('running_dts', 'u64'), f('base_monotonic', 'u64'), f('n_rois', 'u32'),
    f('inline_length', 'u32'), f('fd_naming', 'u32'), f('n_forget', 'u32')] },

  vendorBufferInfo: { c: 'QsVendorBufferInfo', doc: 'the vendor\'s BUFFER_INFO (identity 2)',
    fields: [f('identity', 'u32'), f('buf_id', 'i32', BUFFER_IDS), f('pts', 'u64'), f('dts', 'u64'), f('duration', 'u64'),
      f('use_buffer_pool', 'i32')] },
  vendorFrame: { c: 'QsVendorFrame', doc: 'the vendor\'s FRAME (identity 3)',
    fields: [f('identity', 'u32'), f('width', 'u32'), f('height', 'u32'), f('format', 'u32'), f('n_planes', 'u32'),
      f('offsets', 'u64', 4), f('strides', 'i32', 4), f('flags', 'u32'), f('size', 'u64'), f('maxsize', 'u64')] },
  vendorTensor: { c: 'QsVendorTensor', doc: 'the vendor\'s TENSOR (identity 4)',
    fields: [f('identity', 'u32'), f('type', 'u32'), f('n_dimensions', 'u32'), f('dimensions', 'u32', 8), f('size', 'u64'),
      f('maxsize', 'u64')] },
  vendorText: { c: 'QsVendorText', doc: 'the vendor\'s TEXT (identity 5)',
    fields: [f('identity', 'u32'), f('contents', 'u8', 1024), f('size', 'u64'), f('maxsize', 'u64')] },
  vendorReturnBuffer: { c: 'QsVendorReturnBuffer', doc: 'the vendor\'s RETURN_BUFFER (identity 6)',
    fields: [f('identity', 'u32'), f('buf_id', 'i32', BUFFER_IDS)] },
  vendorFdCount: { c: 'QsVendorFdCount', doc: 'the vendor\'s FD_COUNT (identity 7)',
    fields: [f('identity', 'u32'), f('n_fds', 'i32')] },
  vendorRoiMeta: { c: 'QsVendorRoiMeta', doc: 'the vendor\'s ROI meta (identity 9): a label, a box, two parameter ' +
    'strings (ObjectDetection, xtraparams) with their lengths (0: absent)',
  fields: [f('identity', 'u32'), f('label', 'u8', 32), f('id', 'i32'), f('parent_id', 'i32'), f('x', 'u32'), f('y', 'u32'),
    f('w', 'u32'), f('h', 'u32'), f('detection', 'u8', 256), f('detection_length', 'u64'), f('extra', 'u8', 256),
    f('extra_length', 'u64')] },

  unixfdCommand: { c: 'QsUnixfdCommand', doc: 'upstream\'s unixfd wire: the header of a command (UNIXFD_COMMANDS), sent ' +
    'with its fds as SCM_RIGHTS on a stream socket; size bytes of payload follow',
  fields: [f('type', 'u32'), f('size', 'u32')] },
  unixfdNewBuffer: { c: 'QsUnixfdNewBuffer', doc: 'upstream\'s unixfd wire: NEW_BUFFER\'s fixed part (timestamps on ' +
    'CLOCK_MONOTONIC; type 0 memory, 1 DMA-BUF); a QsUnixfdMemory per memory (one fd each, in order) follows, then ' +
    'n_meta metas as gst_meta_serialize writes them',
  fields: [f('id', 'u64'), f('pts', 'u64'), f('dts', 'u64'), f('duration', 'u64'), f('offset', 'u64'),
    f('offset_end', 'u64'), f('flags', 'u32'), f('type', 'u8'), f('n_memory', 'u8'), f('n_meta', 'u16')] },
  unixfdMemory: { c: 'QsUnixfdMemory', doc: 'upstream\'s unixfd wire: one memory of NEW_BUFFER, its span on its fd',
    fields: [f('size', 'u64'), f('offset', 'u64')] },
  unixfdMeta: { c: 'QsUnixfdMeta', doc: 'a serialized meta (gst_meta_serialize): this header (total: the whole ' +
    'record), the name and its NUL, a u8 version, the body',
  fields: [f('total', 'u32'), f('name_length', 'u32')] },
  unixfdVideoMeta: { c: 'QsUnixfdVideoMeta', doc: 'GstVideoMeta serialized, version 0: this, then u64 offsets[n_planes], ' +
    'i32 strides[n_planes], u32 padding top, bottom, left, right, u32 stride_align[n_planes]',
  fields: [f('flags', 'i32'), f('format', 'i32'), f('width', 'u32'), f('height', 'u32'), f('n_planes', 'u32')] },
} satisfies Record<string, RecordDef>

export type RecordName = keyof typeof RECORDS

const SIZES: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8 }

export interface Layout {
  size: number
  /** each field's offset from the start of the record */
  offset: Record<string, number>
}

function layOut(def: RecordDef): Layout {
  const offset: Record<string, number> = {}
  let at = 0
  for (const field of def.fields) {
    offset[field.name] = at
    at += SIZES[field.type] * (field.count ?? 1)
  }
  return { size: at, offset }
}

/** each record's size and field offsets */
export const LAYOUT = Object.fromEntries(Object.entries(RECORDS).map(([k, def]) => [k, layOut(def)])) as
  Record<RecordName, Layout>

export type Value = number | bigint | Array<number | bigint> | Uint8Array

function readField(v: DataView, at: number, type: FieldType): number | bigint {
  switch (type) {
    case 'u8': return v.getUint8(at)
    case 'u16': return v.getUint16(at, true)
    case 'u32': return v.getUint32(at, true)
    case 'i32': return v.getInt32(at, true)
    case 'u64': return v.getBigUint64(at, true)
  }
}

function writeField(v: DataView, at: number, type: FieldType, x: number | bigint): void {
  switch (type) {
    case 'u8': v.setUint8(at, Number(x)); break
    case 'u16': v.setUint16(at, Number(x), true); break
    case 'u32': v.setUint32(at, Number(x), true); break
    case 'i32': v.setInt32(at, Number(x), true); break
    case 'u64': v.setBigUint64(at, BigInt(x), true); break
  }
}

/** A record at `at` of v: u64 fields as bigint, arrays as arrays (u8 arrays as a Uint8Array view). */
export function readRecord(v: DataView, at: number, name: RecordName): Record<string, Value> {
  const def: RecordDef = RECORDS[name]
  const layout = LAYOUT[name]
  const out: Record<string, Value> = {}
  for (const field of def.fields) {
    const o = at + layout.offset[field.name]!
    if (!field.count) {
      out[field.name] = readField(v, o, field.type)
    } else if (field.type === 'u8') {
      out[field.name] = new Uint8Array(v.buffer, v.byteOffset + o, field.count)
    } else {
      const xs: Array<number | bigint> = []
      for (let i = 0; i < field.count; i++)
        xs.push(readField(v, o + i * SIZES[field.type], field.type))
      out[field.name] = xs
    }
  }
  return out
}

/** Writes the given fields of a record at `at` of v (the others are left as they are; an array may be
 *  shorter than its field: the rest is left too). */
export function writeRecord(v: DataView, at: number, name: RecordName, values: Record<string, Value | undefined>): void {
  const def: RecordDef = RECORDS[name]
  const layout = LAYOUT[name]
  for (const field of def.fields) {
    const x = values[field.name]
    if (x === undefined)
      continue
    const o = at + layout.offset[field.name]!
    if (!field.count)
      writeField(v, o, field.type, x as number | bigint)
    else if (x instanceof Uint8Array)
      new Uint8Array(v.buffer, v.byteOffset + o, field.count).set(x.subarray(0, field.count))
    else
      (x as Array<number | bigint>).slice(0, field.count).forEach((e, i) => writeField(v, o + i * SIZES[field.type], field.type, e))
  }
}

// ---- the C header ---------------------------------------------------------------------------------
const C_TYPES: Record<FieldType, string> = { u8: 'guint8', u16: 'guint16', u32: 'guint32', i32: 'gint32', u64: 'guint64' }

/** videoMeta -> VIDEO_META */
const upper = (name: string) => name.replace(/[A-Z]/g, c => `_${c}`).toUpperCase()

/** plugin/helper/layout.h, as this table makes it */
export function layoutHeader(): string {
  const out = [
    '/* The wire\'s fixed-size records: GENERATED from lib/protocol/layout.ts by scripts/gen-layout.ts',
    ' * (node dist/scripts/gen-layout.js). Do not edit: change the table and generate again;',
    ' * test/layout.test.ts fails while this file is not the one the table makes. */',
    '#pragma once',
    '#include <glib.h>',
    '',
    'G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);     /* the wire is little-endian */',
    '',
    '/* our items\' identities, the vendor\'s structs\' identities and sizes, upstream\'s unixfd commands */',
    `#define QS_ITEM_BASE 0x${ITEM_BASE.toString(16)}u`,
    `enum { ${Object.entries(ITEMS).map(([name, n]) => `QS_ITEM_${upper(name)} = QS_ITEM_BASE | ${n}`).join(', ')} };`,
    `enum { ${VENDOR_STRUCTS.map(([name], i) => `QS_VENDOR_${upper(name)} = ${i}`).join(', ')} };`,
    `static const gssize qs_vendor_sizes[] = { ${VENDOR_SIZES.join(', ')} };`,
    `enum { ${Object.entries(UNIXFD_COMMANDS).map(([name, n]) => `QS_UNIXFD_${upper(name)} = ${n}`).join(', ')} };`,
    `#define QS_UNIXFD_VIDEO_META "${UNIXFD_VIDEO_META}"`,
    '',
    '/* what a receiver accepts, and a sender keeps to */',
    ...Object.entries(LIMITS).map(([name, n]) => `#define QS_LIMIT_${upper(name)} ${n}`),
  ]
  for (const [name, def] of Object.entries(RECORDS) as Array<[RecordName, RecordDef]>) {
    const layout = LAYOUT[name]
    out.push('', `/* ${def.doc} */`, 'typedef struct __attribute__ ((packed)) {')
    for (const field of def.fields)
      out.push(`  ${C_TYPES[field.type]} ${field.name}${field.count ? `[${field.count}]` : ''};`)
    out.push(`} ${def.c};`)
    out.push(`G_STATIC_ASSERT (sizeof (${def.c}) == ${layout.size});`)
    for (const field of def.fields)
      out.push(`G_STATIC_ASSERT (G_STRUCT_OFFSET (${def.c}, ${field.name}) == ${layout.offset[field.name]});`)
  }
  return out.join('\n') + '\n'
}
