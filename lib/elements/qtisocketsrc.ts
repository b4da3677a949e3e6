/**
 * qtisocketsrc: receives buffers from a qtisocketsink in another process over a UNIX socket and pushes
 * them downstream without copying: the file descriptors that arrive with each message are wrapped as
 * read-only fd (or DMA-BUF) memory, and the metadata, caps and video meta are restored. When
 * downstream frees the last memory of a buffer, the source tells the sender, which then releases it.
 *
 * The source listens on the socket (a stale socket file left by a crashed receiver is replaced; one
 * that someone still listens on is not) and serves one sender at a time. Caps come from the sender,
 * in-band: no capsfilter is needed. It is a live source. End-of-stream from the sender ends the
 * stream; a sender that disconnects without it is reported with a warning and the source waits for
 * the next sender. Every `timeout` ms without a message it posts a "GstQtiSocketSrcTimeout" element
 * message (fields: timeout, connected), as udpsrc does, so that an application can tell a stalled sender.
 *
 * Receiver: gst-launch-1.0 qtisocketsrc socket=/tmp/cam.sock ! videoconvert ! x264enc ! mp4mux ! filesink location=out.mp4 -e
 * Sender:   gst-launch-1.0 videotestsrc num-buffers=300 ! video/x-raw,format=I420 ! qtisocketsink socket=/tmp/cam.sock
 */
import { AUTHOR, CAPS, SIGNALS, SOCKET_PROPERTY, SocketElementImpl } from '../element'
import { GstBase } from '../gst'
import { Action, HookResult, LogLevel, Mode, native } from '../native'
import { BufferDesc, encodeDesc, MemKind } from '../protocol/desc'
import { decodeUnixfd } from '../protocol/unixfd'
import { decodeVendor, looksVendor, VendorBlock, VIDEO_FORMATS } from '../protocol/vendor'
import { BufferMessage, decodeMessage, FEATURE_BUSY, FEATURE_NO_SKIP, MINOR_FD_CACHE, structureProblem, encodeHello, PROTOCOL_MAJOR, PROTOCOL_MINOR, ProtocolError } from '../protocol/wire'

export class QtiSocketSrc extends GstBase.PushSrc {
  static GTypeName = 'GstQtiSocketSrc'
}

const EPROTO = 71
const EMSGSIZE = 90

class Impl extends SocketElementImpl {
  /** the sender greeted us with a version we speak */
  private greeted = false
  /** the sender caches fds with us (both speak 1.2): memories name their fd by the sender's id */
  private cached = false
  /** the sender speaks the vendor's wire (it sent a buffer without greeting): no caps travel */
  private vendor = false
  /** the caps of the vendor's stream were negotiated with downstream */
  private vendorCaps = false
  private caps?: string
  /** wire=unixfd: the sender is upstream GStreamer's unixfdsink, we connect to it */
  private unixfd = false
  protected override readonly words = { mode: ['listen', 'connect'], wire: ['auto', 'unixfd'] }

  override onStop(): void {
    this.caps = undefined
    this.greeted = false
    this.cached = false
  }

  /** a sender connected: our greeting; a busy one waits for the one we serve, our state stays that one's */
  override onConnected(busy: boolean): HookResult {
    if (this.unixfd) {
      // their sink greets nobody and speaks first: its caps
      this.greeted = false
      this.caps = undefined
      return {}
    }
    if (busy)
      return { data: encodeHello(FEATURE_BUSY) }
    this.greeted = false
    this.cached = false
    this.vendor = false
    this.vendorCaps = false
    this.caps = undefined
    return { data: encodeHello(this.prop<boolean>('may-skip') ? 0 : FEATURE_NO_SKIP) }
  }

  /** the sender went away (errno of the read; 0 if it closed) */
  override onDisconnected(errno: number): HookResult {
    if (this.unixfd && (errno === EPROTO || errno === EMSGSIZE)) {
      return { warning: `The sender on "${this.path}" (upstream's unixfd wire) broke the framing (${errno === EPROTO
        ? 'a command cut short, or too many fds' : 'a command beyond 16 MiB'}): disconnected it; connecting again` }
    }
    if (this.unixfd)
      return { warning: `The sender on "${this.path}" (upstream's unixfd wire) disconnected without end-of-stream; connecting again` }
    if (errno === EPROTO || errno === EMSGSIZE) {
      return { warning: `The sender on "${this.path}" broke the framing (${errno === EPROTO
        ? 'a record of another size than announced, or fds on a length record' : 'a length beyond 16 MiB'}): ` +
        'disconnected it; waiting for a new sender' }
    }
    return { warning: `The sender on "${this.path}" disconnected without end-of-stream; waiting for a new sender` }
  }

  override onStart(): HookResult {
    const problem = this.takeSocketPath()
    if (problem)
      return { error: problem }
    this.unixfd = this.prop<string>('wire') === 'unixfd'
    if (this.unixfd) {
      // upstream's unixfdsink listens and serves any number of receivers: the helper connects, and
      // again after each end
      this.log(LogLevel.Info, `connecting to ${this.path} (upstream's unixfd wire)`)
      return { path: this.path, unixfd: true }
    }
    if (this.prop<string>('mode') === 'connect') {
      // the sender listens (qtisocketsink mode=listen): the helper connects, and again after each end
      this.log(LogLevel.Info, `connecting to ${this.path}`)
      return { path: this.path }
    }
    const error = native().listen(this.ptr, this.path)
    if (error)
      return { error: `Cannot listen on "${this.path}": ${error}` }
    this.log(LogLevel.Info, `listening on ${this.path}`)
    return {}
  }

  /** a message from the sender that the native decoder left to us (a greeting, end-of-stream, new
   *  caps, anything malformed), with nFds fds */
  override onMessage(data: Buffer, nFds: number): HookResult {
    if (this.unixfd)
      return this.unixfdMessage(data, nFds)
    if (!this.greeted && !this.vendor && looksVendor(data)) {
      // the vendor's sender greets nobody (it ignored our greeting) and starts with a buffer
      this.vendor = true
      this.log(LogLevel.Info, `sender on ${this.path} speaks the vendor's wire: caps come from downstream`)
      return { ...this.vendorMessage(data, nFds), peer: 'the vendor\'s qtisocketsink' }
    }
    if (this.vendor)
      return this.vendorMessage(data, nFds)
    let msg
    try {
      msg = decodeMessage(data)
    } catch (e) {
      if (!(e instanceof ProtocolError))
        throw e
      // before the greeting, nothing is known of this sender: a greeting that does not parse ends it
      if (!this.greeted)
        return this.refuse(`sent a malformed greeting (${e.message})`)
      return { action: Action.None, warning: `Dropped a malformed message from the sender on "${this.path}": ${e.message}` }
    }
    if (msg.type === 'hello') {
      // another major version is that sender's misconfiguration, not ours: it learns ours from our
      // greeting and fails on its side; we serve the next one
      if (msg.major !== PROTOCOL_MAJOR) {
        return this.refuse(`speaks qtisocket protocol ${msg.major}.${msg.minor} (${msg.software}); ` +
          `this receiver speaks ${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`)
      }
      this.greeted = true
      this.cached = msg.minor >= MINOR_FD_CACHE
      this.log(LogLevel.Info, `sender on ${this.path} speaks ${msg.software} protocol ${msg.major}.${msg.minor}`)
      // from now on the helper decodes this sender's buffers itself (plugin/helper/decode.c)
      return { action: Action.None, peer: `${msg.software} ${msg.major}.${msg.minor}`,
        mode: this.cached ? Mode.OursCached : Mode.Ours }
    }
    if (!this.greeted)
      return this.refuse('did not greet')
    if (msg.type === 'eos')
      return { action: Action.Eos }
    if (msg.type !== 'buffer')
      return { action: Action.None, warning: `Ignored a ${msg.type} message from the sender on "${this.path}"` }
    return this.buffer(msg, nFds)
  }

  /** Nothing a sender sends stops the receiver: a sender we cannot serve is warned about (naming the
   *  socket and why), disconnected (the helper closes every fd that came) and the next one served. */
  private refuse(why: string): HookResult {
    return { action: Action.Disconnect, warning: `The sender on "${this.path}" ${why}: disconnected it; ` +
      (this.unixfd ? 'connecting again' : 'waiting for a new sender') }
  }

  /** A command of upstream's unixfdsink (lib/protocol/unixfd.ts) that the native decoder left to us:
   *  its caps (after which the helper decodes its buffers itself, plugin/helper/decode.c), its end, a
   *  buffer before any caps, or anything malformed. Their wire cannot say a buffer was refused, and
   *  their sink is not ours to fix: one that lies (sizes, counts, a command only a receiver sends) is
   *  disconnected with a warning, and connected to again. */
  private unixfdMessage(data: Buffer, nFds: number): HookResult {
    let msg
    try {
      msg = decodeUnixfd(data, nFds)
    } catch (e) {
      if (!(e instanceof ProtocolError))
        throw e
      return this.refuse(`(upstream's unixfd wire) sent a malformed command: ${e.message}`)
    }
    const first = !this.greeted
    this.greeted = true
    const peer = first ? { peer: 'unixfdsink (upstream GStreamer\'s unixfd wire)' } : {}
    switch (msg.type) {
      case 'caps':
        if (msg.caps === 'NULL') {
          // their sink greets a client that connects before it has caps with gst_caps_to_string (NULL):
          // not caps, but "none yet"; the real ones follow when it gets them
          this.log(LogLevel.Debug, `the sender on ${this.path} has no caps yet (it sent "NULL")`)
          return { action: Action.None, ...peer }
        }
        this.caps = msg.caps
        this.log(LogLevel.Info, `caps from the sender on ${this.path}: ${msg.caps}`)
        return { action: Action.None, caps: msg.caps, mode: Mode.Unixfd, ...peer }
      case 'eos':
        return { action: Action.Eos, ...peer }
      case 'release':
        return this.refuse(`(upstream's unixfd wire) sent RELEASE_BUFFER (${msg.id}), which only a receiver sends`)
      case 'unknown':
        // their wire may grow new commands: their receiver skips those it does not know, as we do
        this.log(LogLevel.Debug, `ignored a command of type ${msg.command} from the sender on ${this.path}`)
        return { action: Action.None, ...peer }
      case 'buffer':
        if (this.caps === undefined) {
          return { action: Action.Drop, data: encodeDesc(msg.buffer, nFds), ...peer,
            warning: `Dropped a buffer from the sender on "${this.path}" (upstream's unixfd wire): no caps yet` }
        }
        return { action: Action.Buffer, data: encodeDesc(msg.buffer, nFds), ...peer }
    }
  }

  /** A message on the vendor's wire (lib/protocol/vendor.ts): a buffer's blocks become its memories
   *  (frames and tensors on fds, text inline), a frame its video meta; the sender's timestamps are
   *  stream times without a base, so the buffer gets our running time of its arrival (as
   *  do-timestamp); the caps come from downstream, narrowed by the first buffer (a hint). */
  private vendorMessage(data: Buffer, nFds: number): HookResult {
    let msg
    try {
      msg = decodeVendor(data)
    } catch (e) {
      if (!(e instanceof ProtocolError))
        throw e
      return { action: Action.None, warning: `Dropped a malformed message from the sender on "${this.path}" ` +
        `(the vendor's wire): ${e.message}` }
    }
    if (msg.type === 'eos')
      return { action: Action.Eos }
    if (msg.type !== 'buffer')
      return { action: Action.None, warning: `Ignored a ${msg.type} message from the sender on "${this.path}"` }
    const fdBlocks = msg.blocks.filter(b => b.kind !== 'text').length
    if (!msg.pooled && nFds !== fdBlocks) {
      return { action: Action.None, warning: `Dropped a malformed message from the sender on "${this.path}" ` +
        `(the vendor's wire): ${nFds} fds for ${fdBlocks} memory blocks that are not cached` }
    }
    const NONE = 0xffffffffffffffffn
    const b: BufferDesc = { id: 0n, pts: msg.pts, dts: msg.dts, duration: msg.duration, offset: NONE, offsetEnd: NONE,
      flags: 0, runningPts: msg.pts, runningDts: NONE, baseMonotonic: NONE, memories: [],
      vendor: msg.pooled ? 'pooled' : 'unpooled' }
    const text: Uint8Array[] = []
    for (const [i, block] of msg.blocks.entries()) {
      if (block.kind === 'text') {
        const n = BigInt(block.bytes.byteLength)
        b.memories.push({ index: 0, kind: MemKind.Inline, offset: 0n, size: n, maxsize: n })
        text.push(block.bytes)
        continue
      }
      // the vendor sends no memory offset: the memory is the fd from byte 0, resized to size
      b.memories.push({ index: msg.bufIds[i]! >>> 0, kind: MemKind.Fd, offset: 0n, size: block.size,
        maxsize: block.maxsize })
      if (block.kind === 'frame' && msg.blocks.length === 1) {
        b.video = { format: block.format, width: block.width, height: block.height, nPlanes: block.nPlanes, flags: 0,
          offsets: block.offsets, strides: block.strides }
      }
    }
    if (text.length)
      b.inline = Buffer.concat(text)
    const rois = msg.rois.map(r => ({ ...r, params: r.params.filter(p => !structureProblem(p)) }))
    if (rois.length)
      b.rois = rois
    const result: HookResult = { action: Action.Buffer, data: encodeDesc(b, nFds) }
    if (!this.vendorCaps) {
      this.vendorCaps = true
      result.caps = vendorCapsHint(msg.blocks[0]!)
      result.capsHint = true
      // the caps of the stream set, the helper decodes the next buffers itself (decode.c)
      result.mode = Mode.Vendor
    }
    return result
  }

  /** The helper checks each memory against what its fd really is when it builds the buffer. */
  private buffer(msg: BufferMessage, nFds: number): HookResult {
    const b = msg.buffer
    if (this.cached) {
      const fdIds = msg.fdIds ?? []
      if (fdIds.length !== nFds) {
        return { action: Action.None, warning: `Dropped a malformed message from the sender on "${this.path}": ` +
          `${nFds} fds came with it, but its FDS item names ${fdIds.length}` }
      }
      b.cache = { ids: fdIds, forget: msg.forget ?? [] }
    }
    let caps: string | undefined
    if (msg.caps !== undefined && msg.caps !== this.caps)
      caps = this.caps = msg.caps
    if (this.caps === undefined) {
      return { action: Action.Drop, data: encodeDesc(b, nFds),
        warning: `Dropped a buffer from the sender on "${this.path}": no caps yet` }
    }
    // the helper keeps the sender's buffer flags but never its mini-object bits. (It decodes the
    // buffers of our wire itself, plugin/helper/decode.c, to this very description: only the first
    // buffers, new caps and what it does not take come here.)
    return { action: Action.Buffer, data: encodeDesc(b, nFds), caps }
  }
}

/** what the first buffer of the vendor's wire says of the caps (downstream's capsfilter decides) */
function vendorCapsHint(block: VendorBlock): string {
  if (block.kind === 'text')
    return 'text/x-raw'
  if (block.kind === 'tensor')
    return 'neural-network/tensors'
  const format = VIDEO_FORMATS[block.format]
  return `video/x-raw${format ? `, format=(string)${format}` : ''}, width=(int)${block.width}, height=(int)${block.height}`
}

export const srcSpec = {
  factory: 'qtisocketsrc',
  rank: 0,
  role: 'src' as const,
  longname: 'QTI socket source (TypeScript)',
  klass: 'Source/Network',
  description: 'Receives buffers from a qtisocketsink in another process over a UNIX socket, wrapping their file descriptors (zero-copy)',
  author: AUTHOR,
  signals: SIGNALS,
  templates: [{ name: 'src', direction: 'src' as const, caps: CAPS }],
  properties: [
    SOCKET_PROPERTY,
    { name: 'perms', nick: 'Permissions', type: 'uint' as const, default: 0o600, min: 0, max: 0o777,
      writable: true, mutableReady: true,
      blurb: 'Permissions of the socket file: who may connect (write permission) (default 0600: this user only)' },
    { name: 'mode', nick: 'Mode', type: 'string' as const, default: 'listen', writable: true, mutableReady: true,
      blurb: '"listen": bind the socket and serve the qtisocketsink that connects (the vendor\'s roles); "connect": ' +
        'connect to a qtisocketsink mode=listen (retrying while nobody listens, and after each sender\'s end)' },
    { name: 'wire', nick: 'Wire', type: 'string' as const, default: 'auto', writable: true, mutableReady: true,
      blurb: '"auto": ours or the vendor\'s, whichever the sender speaks; "unixfd": upstream GStreamer\'s unixfd wire: ' +
        'connect to a stock unixfdsink (1.24+; retrying while nobody listens, and after each end; `mode` does not apply)' },
    { name: 'may-skip', nick: 'May skip', type: 'boolean' as const, default: true, writable: true, mutableReady: true,
      blurb: 'Whether a sender that skips slow receivers (qtisocketsink slow-receiver=skip, the default when it listens) ' +
        'may skip buffers to this one while it holds max-in-flight of them; false: it must get every buffer (a ' +
        'recorder): the sender waits for it' },
    { name: 'timeout', nick: 'Timeout', type: 'uint64' as const, default: 1000, min: 0, max: 0xffffffff,
      writable: true,
      blurb: 'Wake-up interval in ms: after this long without a message, post a "GstQtiSocketSrcTimeout" ' +
        'element message and keep waiting (0 = never)' },
    { name: 'stats', nick: 'Statistics', type: 'structure' as const,
      blurb: 'Counters: received (buffers), returned (given back to the sender), connections, fds-received, ' +
        'copied (memory copied on arrival: the vendor\'s unsealable memfds), js-calls (calls into TypeScript), ' +
        'fast-path (buffers built without one); once a syncing sender\'s buffers came, latency-p50 and ' +
        'latency-p99 (ns: arrival minus the instant the sender meant) over latency-samples (the last 1024 at most)' },
  ],
  impl: Impl,
}
