/**
 * qtisocketsink: sends each buffer to a qtisocketsrc in another process over a UNIX socket, without
 * copying it. The memory's file descriptors travel with SCM_RIGHTS, the metadata (caps, timestamps,
 * offsets, flags, memory layout, video meta) in the message. The sink keeps a reference to each
 * buffer until the receiver returns it, so upstream cannot reuse memory the receiver still reads;
 * when the receiver goes away, every buffer it held is released at once.
 *
 * The receiver listens; the sink connects. While no receiver listens, buffers are dropped (a warning
 * says so once), or, with wait-for-connection=true, the sink waits for one (interruptibly).
 * Upstream is offered a pool of memfd-backed buffers so that it draws straight into shareable
 * memory; a buffer in other memory is copied into a memfd once (counted in `stats`).
 *
 * Sender:   gst-launch-1.0 videotestsrc ! video/x-raw,format=I420,width=1920,height=1080 ! qtisocketsink socket=/tmp/cam.sock
 * Receiver: gst-launch-1.0 qtisocketsrc socket=/tmp/cam.sock ! videoconvert ! autovideosink
 */
import { AUTHOR, CAPS, SIGNALS, SOCKET_PROPERTY, SocketElementImpl } from '../element'
import { GstBase } from '../gst'
import { HookResult, LogLevel, native, Takes } from '../native'
import { BufferDesc, decodeDesc, MemKind } from '../protocol/desc'
import { encodeVendorBuffer, VENDOR_MAX_BLOCKS, VENDOR_TEXT_MAX, VendorBlock } from '../protocol/vendor'
import { decodeMessage, encodeCaps, encodeEos, encodeHello, FEATURE_BUSY, FEATURE_NO_SKIP, MINOR_FD_CACHE, MINOR_INLINE, PROTOCOL_MAJOR,
  PROTOCOL_MINOR, ProtocolError } from '../protocol/wire'

export class QtiSocketSink extends GstBase.BaseSink {
  static GTypeName = 'GstQtiSocketSink'
}

const ENOENT = 2
const ECONNREFUSED = 111
const EAGAIN = 11

class Impl extends SocketElementImpl {
  private caps?: string
  /** end-of-stream went to the receiver: its going away afterwards is expected */
  private eosSent = false
  /** the receiver is the vendor's qtisocketsrc (it never greeted): we speak their wire */
  private vendor = false
  /** mode=listen: serving every receiver that connects */
  private listening = false
  protected override readonly words = { 'mode': ['connect', 'listen'], 'slow-receiver': ['auto', 'wait', 'skip'],
    'wire': ['auto', 'unixfd'] }

  override onStop(): void {
    this.caps = undefined
  }

  /** the CAPS item of our wire (the helper sends it with the next buffer it encodes, encode.c) and
   *  what the vendor's wire makes of these caps */
  override onSetCaps(caps: string): HookResult {
    this.caps = caps
    return { data: encodeCaps(caps), vendor: vendorTemplate(caps) }
  }

  override onEos(): HookResult {
    this.eosSent = true
    return { data: encodeEos() }
  }

  override onDisconnected(held: number): HookResult | undefined {
    if (this.listening) {
      // serving many: receivers come and go; the others do not notice
      this.log(LogLevel.Info, `a receiver left ${this.path}; released the ${held} buffers it held`)
      return undefined
    }
    if (this.eosSent) {
      this.log(LogLevel.Info, `receiver on ${this.path} closed after end-of-stream`)
      return undefined
    }
    return { warning: `The receiver on "${this.path}" went away; released the ${held} buffers it held` }
  }

  override onPeerMessage(data: Buffer): undefined {
    this.log(LogLevel.Warning, `unexpected message of ${data.byteLength} bytes from the receiver: ignored`)
    return undefined
  }

  override onStart(): HookResult {
    const problem = this.takeSocketPath()
    if (problem)
      return { error: problem }
    this.eosSent = false
    // upstream's unixfd wire: their receivers connect, so the sink listens (on a stream socket)
    const unixfd = this.prop<string>('wire') === 'unixfd'
    this.listening = unixfd || this.prop<string>('mode') === 'listen'
    if (this.listening) {
      const error = native().listen(this.ptr, this.path, unixfd)
      if (error)
        return { error: `Cannot listen on "${this.path}": ${error}` }
      this.log(LogLevel.Info, `listening on ${this.path}${unixfd ? ' (upstream\'s unixfd wire)' : ''}`)
    }
    const slow = this.prop<string>('slow-receiver')
    return { path: this.path, maxInFlight: this.prop<number>('max-in-flight'),
      skipSlow: slow === 'skip' || (slow === 'auto' && this.listening), unixfd }
  }


  override onHandshake(data: Buffer | undefined, silent: boolean): HookResult {
    if (!data && silent) {
      // no greeting: the vendor's qtisocketsrc, which greets nobody; it learns nothing of us
      this.vendor = true
        this.eosSent = false
      this.log(LogLevel.Info, `the receiver on ${this.path} did not greet: speaking the vendor's wire to it`)
      return { takes: Takes.Vendor, peer: 'the vendor\'s qtisocketsrc' }
    }
    if (!data)
      return { error: `No greeting from the receiver on "${this.path}"` }
    this.vendor = false
    this.eosSent = false
    let hello
    try {
      hello = decodeMessage(data)
    } catch (e) {
      if (!(e instanceof ProtocolError))
        throw e
      return { error: `The receiver on "${this.path}" sent a malformed greeting: ${e.message}` }
    }
    if (hello.type !== 'hello')
      return { error: `The receiver on "${this.path}" sent a ${hello.type} message instead of a greeting` }
    if (hello.features & FEATURE_BUSY)
      return { takes: Takes.Busy, warning: `The receiver on "${this.path}" serves another sender: waiting for it` }
    // our greeting goes back in every case, so that the receiver can report a version mismatch too
    const reply = encodeHello()
    if (hello.major !== PROTOCOL_MAJOR) {
      return { data: reply, error: `The receiver on "${this.path}" speaks qtisocket protocol ` +
        `${hello.major}.${hello.minor} (${hello.software}); this sink speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}` }
    }
    this.log(LogLevel.Info, `receiver on ${this.path} speaks ${hello.software} protocol ${hello.major}.${hello.minor}`)
    // what the receiver takes: inline memory (1.1: a 1.0 receiver would refuse it), the fd cache (1.2)
    // and whether it may miss buffers when it is slow (slow-receiver=skip): a recorder says it may not
    const takes = (hello.minor >= MINOR_INLINE ? Takes.Inline : 0) | (hello.minor >= MINOR_FD_CACHE ? Takes.Cache : 0) |
      (hello.features & FEATURE_NO_SKIP ? Takes.NoSkip : 0)
    return { data: reply, takes, peer: `${hello.software} ${hello.major}.${hello.minor}` }
  }

  /** Only the vendor's wire comes here: on ours, the helper encodes every buffer itself
   *  (plugin/helper/encode.c), with the CAPS item made at set_caps. */
  override onRender(desc: Buffer): HookResult {
    const buffer = decodeDesc(desc)
    if (!this.vendor)
      return { error: `Internal error: asked to encode a buffer of our wire for "${this.path}"` }
    return this.vendorRender(buffer)
  }

  /** A buffer on the vendor's wire (lib/protocol/vendor.ts), as their sink sends it for its caps:
   *  video, one fd memory with its layout (FRAME); tensors, one fd memory per tensor (TENSOR, type and
   *  dimensions from the caps); text, at most 1024 bytes inside the message (TEXT). A pooled buffer's
   *  fds cross once and are named by id (buf_id) afterwards. No caps, no running time, no flags. */
  private vendorRender(buffer: BufferDesc): HookResult {
    const cache = buffer.cache!
    const media = (this.caps ?? '').split(',')[0]!.trim()
    const fail = (why: string): HookResult =>
      ({ error: `Cannot send this buffer to the vendor's qtisocketsrc on "${this.path}": ${why}` })
    const fdMemories = buffer.memories.filter(m => m.kind !== MemKind.Inline)
    const blocks: VendorBlock[] = []
    if (media === 'text/x-raw') {
      const bytes = buffer.inline ?? new Uint8Array(0)
      if (fdMemories.length)
        return fail('their text is carried inside the message, and this memory is on an fd')
      if (bytes.byteLength > VENDOR_TEXT_MAX)
        return fail(`their text field holds ${VENDOR_TEXT_MAX} bytes, this buffer has ${bytes.byteLength}`)
      blocks.push({ kind: 'text', bytes })
    } else if (media === 'video/x-raw') {
      const m = buffer.memories[0]
      const v = buffer.video
      if (buffer.memories.length !== 1 || !m || m.kind === MemKind.Inline || !v)
        return fail(`they take one fd memory per video frame; this one has ${buffer.memories.length}`)
      // they map the fd from byte 0: the memory's offset goes into the plane offsets and the size
      blocks.push({ kind: 'frame', width: v.width, height: v.height, format: v.format, nPlanes: v.nPlanes,
        offsets: v.offsets.map(o => o + m.offset), strides: v.strides, size: m.offset + m.size, maxsize: m.maxsize })
    } else if (media === 'neural-network/tensors') {
      const tensors = tensorInfo(this.caps!)
      if (!tensors || tensors.dimensions.length !== buffer.memories.length || fdMemories.length !== buffer.memories.length)
        return fail(`they take one fd memory per tensor of the caps; this buffer has ${buffer.memories.length} memories`)
      buffer.memories.forEach((m, i) => blocks.push({ kind: 'tensor', type: tensors.type, dimensions: tensors.dimensions[i]!,
        size: m.offset + m.size, maxsize: m.maxsize }))
    } else {
      return fail(`they know no caps ${media}`)
    }
    if (blocks.length > VENDOR_MAX_BLOCKS)
      return fail(`at most ${VENDOR_MAX_BLOCKS} memories`)
    const pooled = buffer.vendor === 'pooled'
    const bufIds = buffer.memories.map((m, i) => m.kind === MemKind.Inline ? -1 : cache.ids[i]! | 0)
    // their receiver maps the fds that come to the blocks in order when as many come as there are
    // blocks, and misreads fewer: a buffer with a new fd brings all of its fds
    const fresh = buffer.memories.some((m, i) => m.kind !== MemKind.Inline && (!pooled || cache.fresh![i]))
    const fds = fresh ? buffer.memories.flatMap((m, i) => m.kind === MemKind.Inline ? [] : [i]) : []
    const result: HookResult = { data: encodeVendorBuffer({ bufIds, pts: buffer.pts, dts: buffer.dts,
      duration: buffer.duration, pooled, nFds: fds.length || undefined, blocks,
      rois: media === 'video/x-raw' ? buffer.rois ?? [] : [] }), fds }
    return result
  }

  override onNoReceiver(errno: number, reason: string): HookResult {
    if (errno === ENOENT || errno === ECONNREFUSED || errno === EAGAIN) {
      return { warning: this.prop<boolean>('wait-for-connection')
        ? `No receiver is listening on "${this.path}": waiting for one`
        : `No receiver is listening on "${this.path}": dropping buffers until one connects` }
    }
    return { error: `Cannot connect to "${this.path}": ${reason}` }
  }
}

/** What the vendor's wire makes of each buffer of these caps, for the helper, which encodes their
 *  wire itself (plugin/helper/encode.c): [media (1 video, 2 tensors, 3 text, 0 nothing it carries),
 *  tensor type, tensor count, then per tensor its number of dimensions and the dimensions] */
function vendorTemplate(caps: string): number[] {
  const media = caps.split(',')[0]!.trim()
  if (media === 'video/x-raw')
    return [1, 0, 0]
  if (media === 'text/x-raw')
    return [3, 0, 0]
  const tensors = media === 'neural-network/tensors' ? tensorInfo(caps) : undefined
  if (!tensors || tensors.dimensions.length > VENDOR_MAX_BLOCKS || tensors.dimensions.some(d => d.length > 8))
    return [0, 0, 0]
  return [2, tensors.type, tensors.dimensions.length, ...tensors.dimensions.flatMap(d => [d.length, ...d])]
}

const ML_TYPES = ['UNKNOWN', 'INT8', 'UINT8', 'INT16', 'UINT16', 'INT32', 'UINT32', 'INT64', 'UINT64', 'FLOAT16', 'FLOAT32']

/** type and dimensions of each tensor, from their caps: "neural-network/tensors, type=(string)UINT8,
 *  dimensions=(int)< < 1, 224, 224, 3 >, < 1, 1000 > >" */
function tensorInfo(caps: string): { type: number, dimensions: number[][] } | undefined {
  const type = caps.match(/type=(?:\(string\))?"?([A-Z0-9]+)/)?.[1]
  const dims = caps.match(/dimensions=(?:\([a-z]+\))?\s*<((?:\s*<[^<>]*>\s*,?)*)\s*>/)?.[1]
  if (!type || !dims)
    return undefined
  return { type: Math.max(ML_TYPES.indexOf(type), 0),
    dimensions: [...dims.matchAll(/<([^<>]*)>/g)].map(m => m[1]!.split(',').map(x => Number(x.trim()))) }
}

export const sinkSpec = {
  factory: 'qtisocketsink',
  rank: 0,
  role: 'sink' as const,
  longname: 'QTI socket sink (TypeScript)',
  klass: 'Sink/Network',
  description: 'Sends buffers to a qtisocketsrc in another process over a UNIX socket, passing their memory as file descriptors (zero-copy)',
  author: AUTHOR,
  signals: SIGNALS,
  templates: [{ name: 'sink', direction: 'sink' as const, caps: CAPS }],
  properties: [
    SOCKET_PROPERTY,
    { name: 'wait-for-connection', nick: 'Wait for connection', type: 'boolean' as const, default: false,
      writable: true, blurb: 'Wait (interruptibly) for a receiver instead of dropping buffers while none is connected' },
    { name: 'max-in-flight', nick: 'Max in flight', type: 'uint' as const, default: 16, min: 1, max: 1024,
      writable: true, mutableReady: true,
      blurb: 'Buffers a receiver may hold before the sink waits for one to come back (or, with slow-receiver ' +
        'skip, before that receiver misses buffers)' },
    { name: 'mode', nick: 'Mode', type: 'string' as const, default: 'connect', writable: true, mutableReady: true,
      blurb: '"connect": connect to the one qtisocketsrc listening on the socket (the vendor\'s roles); "listen": ' +
        'bind the socket and serve every qtisocketsrc mode=connect that connects, each from its join point' },
    { name: 'wire', nick: 'Wire', type: 'string' as const, default: 'auto', writable: true, mutableReady: true,
      blurb: '"auto": ours, or the vendor\'s to a receiver that does not greet; "unixfd": upstream GStreamer\'s unixfd ' +
        'wire: listen and serve any number of stock unixfdsrc (1.24+), as unixfdsink does (`mode` does not apply)' },
    { name: 'slow-receiver', nick: 'Slow receiver', type: 'string' as const, default: 'auto', writable: true,
      mutableReady: true,
      blurb: 'A receiver holding max-in-flight buffers: "wait" (the sink waits for it), "skip" (it misses buffers ' +
        'until it returns some, counted), "auto" (skip in mode=listen, wait in mode=connect)' },
    { name: 'perms', nick: 'Permissions', type: 'uint' as const, default: 0o600, min: 0, max: 0o777,
      writable: true, mutableReady: true,
      blurb: 'mode=listen: permissions of the socket file: who may connect (default 0600: this user only)' },
    { name: 'stats', nick: 'Statistics', type: 'structure' as const,
      blurb: 'Counters: sent (buffers sent), returned (given back by the receiver), in-flight (held by it now), ' +
        'dropped (too late, or no receiver), late (too late), rendered, average-rate (GstBaseSink\'s), ' +
        'copied (buffers copied into a memfd), inlined (sent inside the message), bytes-copied, connections, ' +
        'fds-sent, js-calls (calls into TypeScript), fast-path (buffers described without one), skipped (buffers ' +
        'receivers missed, slow-receiver skip), receivers (served now); and per receiver served, receiver-N: its sent, ' +
        'returned, in-flight, skipped, fds-sent and who it is' },
  ],
  impl: Impl,
}
