// The native helper (plugin/helper, an N-API addon) and the small contract with it: hook numbers,
// action numbers, what a hook's result says (by name), and the description of a buffer (desc.ts,
// its records declared in layout.ts) for the buffers the helper leaves to the element.
import * as fs from 'fs'
import * as path from 'path'
import type { BufferDesc, RoiDesc } from './protocol/desc'

export enum Hook {
  Start = 1,
  Stop = 2,
  SetProperty = 3,
  Finalize = 4,
  SetCaps = 5,
  Handshake = 6,
  Render = 7,
  Eos = 8,
  Connected = 9,
  Message = 10,
  Disconnected = 11,
  NoReceiver = 12,
  PeerMessage = 13,
}

/** what the receiver takes: the sink's HANDSHAKE result (`takes`, bits) */
export enum Takes {
  /** inline memory (protocol 1.1) */
  Inline = 1,
  /** the fd cache (1.2) */
  Cache = 2,
  /** it serves another sender: wait for its next greeting */
  Busy = 4,
  /** the vendor's wire: it stayed silent */
  Vendor = 8,
  /** it must not miss buffers: with slow-receiver=skip, the sink waits for it all the same */
  NoSkip = 16,
}

/** the HANDSHAKE's number when the receiver stayed silent (QS_HANDSHAKE_SILENT) */
export const HANDSHAKE_SILENT = -1

export enum Action {
  None = 0,
  Buffer = 1,
  Eos = 2,
  Error = 3,
  Disconnect = 4,
  /** a buffer message refused: `data` holds its u64 id, returned to the sender if fds came with it */
  Drop = 5,
}

/** src: what a sender speaks, once its greeting is read (plugin/helper/qtisocket.h QsMode): the
 *  helper then decodes that sender's buffers of our wire natively */
export enum Mode {
  Unknown = 0,
  Ours = 1,
  OursCached = 2,
  /** the vendor's wire, once the caps of its stream are set */
  Vendor = 3,
  /** upstream's unixfd wire, once its caps came */
  Unixfd = 4,
}

/** What a hook returns to the helper; every field is optional. */
export interface HookResult {
  action?: Action
  data?: Uint8Array
  fds?: number[]
  caps?: string
  path?: string
  /** a peer greeted us: who it is (announced as client-connected) */
  peer?: string
  warning?: string
  error?: string
  /** sink, START: how many buffers the receiver may hold */
  maxInFlight?: number
  /** sink, START: a receiver holding maxInFlight misses buffers instead of making the sink wait */
  skipSlow?: boolean
  /** both, START: wire=unixfd (upstream GStreamer's unixfd wire) */
  unixfd?: boolean
  /** sink, HANDSHAKE: what the receiver takes (Takes bits) */
  takes?: number
  /** src, MESSAGE: `caps` are only a hint (the vendor's wire): downstream decides */
  capsHint?: boolean
  /** src: what this sender speaks (MESSAGE, when its greeting is read) */
  mode?: Mode
  /** sink, SET_CAPS: what the vendor's wire makes of each buffer of these caps (qtisocketsink.ts
   *  vendorTemplate) */
  vendor?: number[]
}


/** (hook, element pointer, bytes, string, number) => result */
export type Dispatch = (hook: Hook, ptr: number, data: Buffer | undefined, str: string | undefined,
  num: number) => HookResult | undefined

export interface PadTemplateSpec {
  name: string
  direction: 'sink' | 'src'
  caps: string
}

export interface PropertySpec {
  name: string
  nick: string
  blurb: string
  type: 'string' | 'boolean' | 'uint' | 'uint64' | 'int' | 'structure'
  default?: string | number | boolean | null
  min?: number
  max?: number
  writable?: boolean
  /** writable only in the NULL and READY states */
  mutableReady?: boolean
}

export interface ElementDefinition {
  gtype: bigint
  role: 'sink' | 'src'
  factory: string
  longname: string
  klass: string
  description: string
  author: string
  /** signal name => its arguments' names and meaning (documentation, as factory metadata) */
  signals: Record<string, string>
  templates: PadTemplateSpec[]
  properties: PropertySpec[]
  dispatch: Dispatch
}

/** a buffer for the tests' run of the native encoder (plugin/helper/codectest.c): its header fields
 *  as a description's, its memories, metas and what the receiver takes */
export interface EncodeSpec extends Pick<BufferDesc, 'id' | 'pts' | 'dts' | 'duration' | 'offset' | 'offsetEnd' | 'flags' |
  'baseMonotonic'> {
  capsItem?: Uint8Array
  cached: boolean
  forget?: number[]
  memories: Array<{ bytes: Uint8Array, fd: boolean, offset?: number }>
  video?: { format: number, width: number, height: number, nPlanes: number, flags: number, offsets: number[], strides: number[] }
  rois?: RoiDesc[]
  /** the vendor's encoder instead of ours: the template made at set_caps (media: 1 video, 2 tensors,
   *  3 text; per tensor its dimensions) and, for a frame without video meta, the caps giving its layout */
  vendor?: { media: number, tensorType?: number, dims?: number[][], caps?: string }
  /** upstream's unixfd encoder instead of ours (NEW_BUFFER's payload), with the sink's latency */
  unixfd?: boolean
  latency?: bigint
}

export interface NativeHelper {
  /** tests only: the sink's native encoder (encode.c) on a buffer built from spec */
  encodeForTest(spec: EncodeSpec): { data: Uint8Array | null, nFds: number, maxsizes: number[], bufIds: number[], fds: number[] }
  /** tests only: the receiver's native decoder (decode.c): the description, or null if it leaves the
   *  message to the element; caps: the CAPS body the element took on the connection */
  decodeForTest(payload: Uint8Array, nFds: number, cached: boolean, caps?: Uint8Array): Uint8Array | null
  /** tests only: the receiver's native decoder of upstream's unixfd wire: a NEW_BUFFER command's
   *  description, or null if it leaves the command to the element */
  decodeUnixfdForTest(command: Uint8Array, nFds: number): Uint8Array | null
  defineElement(def: ElementDefinition): void
  registerElement(plugin: bigint, factory: string, rank: number, gtype: bigint): boolean
  /** binds and listens (the src; the sink with mode=listen); null, or why it failed; stream: a stream
   *  socket, for upstream's unixfd wire */
  listen(ptr: number, socketPath: string, stream?: boolean): string | null
  getProperty(ptr: number, name: string): string | boolean | number | null | undefined
  log(ptr: number, level: LogLevel, message: string): void
  /** pipelines for Node programs (lib/pipeline.ts): addresses are numbers */
  parseLaunch(description: string): number
  release(pipeline: number): void
  setState(pipeline: number, state: number, timeoutMs: number): Promise<number>
  nextMessage(pipeline: number, timeoutMs: number): Promise<import('./pipeline').BusMessage | null>
  property(pipeline: number, element: string, name: string, value?: string | number | boolean):
    string | number | boolean | null
}

export enum LogLevel { Error = 1, Warning = 2, Fixme = 3, Info = 4, Debug = 5, Log = 6, Trace = 7 }

/** root: where dist/ and node_modules/ are; hostDir: where the host library and the helper are */
interface HostBinding { plugin: bigint, root: string, hostDir: string, ready(error?: string): void }

/** The shim's linked binding when running inside a GStreamer process, else undefined. */
export function hostBinding(): HostBinding | undefined {
  const p = process as unknown as { _linkedBinding?: (name: string) => HostBinding }
  try {
    return p._linkedBinding?.('qtisocket_host')
  } catch {
    return undefined
  }
}

export const projectRoot = path.resolve(__dirname, '..', '..')

function helperPath(): string {
  const candidates = [
    process.env.QTISOCKET_NATIVE,
    hostBinding() && path.join(hostBinding()!.hostDir, 'qtisocket_native.node'),
    path.join(projectRoot, 'build', 'meson', 'qtisocket_native.node'),
  ]
  for (const c of candidates)
    if (c && fs.existsSync(c))
      return c
  throw new Error(`the native helper is not built (looked for ${candidates.filter(Boolean).join(', ')}): ` +
    'run scripts/setup.sh')
}

let helper: NativeHelper | undefined
export function native(): NativeHelper {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  helper ??= require(helperPath()) as NativeHelper
  return helper
}
