// The small base layer every element shares, so that an element file reads like a stock element:
// class data (metadata, pad templates, properties), then the per-instance behaviour.
//
// node-gtk's registerClass makes the GType from the TypeScript class (a GstBaseSink or GstPushSrc
// subclass); the native helper completes the class (metadata, templates, properties) and puts its
// trampolines in the vfunc slots: they do the waiting, the fd work and every buffer (encode.c,
// decode.c) on GStreamer threads, and call the element's typed hook methods (onStart, onSetCaps,
// onMessage...) with plain values when something changes. Per instance, the behaviour lives in an
// ElementImpl keyed by the element's pointer (a node-gtk `this` is a generic wrapper, not an
// instance of our class).
import { gi } from './gst'
import { Action, Dispatch, ElementDefinition, HANDSHAKE_SILENT, Hook, HookResult, LogLevel, native, PropertySpec } from './native'

export type ElementClassSpec = Omit<ElementDefinition, 'gtype' | 'dispatch'> & {
  rank: number
  impl: new (ptr: number) => ElementImpl
}

export const AUTHOR = 'qtisocket-ts developers'

/** The two signals both elements have (made by the helper), with their arguments' names and meaning.
 *  GLib keeps no names for signal arguments (gst-inspect prints arg0), so these also go into the
 *  factory's metadata, which gst-inspect prints under "Factory Details". */
export const SIGNALS: Record<string, string> = {
  'client-connected': 'signal: void (GstElement *element, const gchar *peer): the peer greeted this element; ' +
    'peer: its software and protocol version, e.g. "qtisocket-ts 1.2" (also posted as GstQtiSocketConnected)',
  'client-disconnected': 'signal: void (GstElement *element, const gchar *reason): the peer went away; reason: why ' +
    '(also posted as GstQtiSocketDisconnected, with how many buffers it held)',
}

export abstract class ElementImpl {
  constructor(readonly ptr: number) {}

  /** a property's current value, as the helper stores it */
  protected prop<T extends string | boolean | number | null>(name: string): T {
    return native().getProperty(this.ptr, name) as T
  }

  protected log(level: LogLevel, message: string): void {
    native().log(this.ptr, level, message)
  }

  /** Called for every property change before it is stored; returns why it is refused, if it is. */
  validateProperty(_name: string, _value: string | null): string | undefined {
    return undefined
  }

  // ---- the hooks: what the helper asks the element, one typed method each (the helper calls
  // them with plain values; HOOKS below is the one place where its arguments are read) -----------
  /** READY -> PAUSED */
  onStart?(): HookResult | undefined
  onStop?(): void
  /** sink: new caps; the CAPS item of our wire and the vendor's template for them */
  onSetCaps?(caps: string): HookResult | undefined
  /** sink: the receiver's greeting, or none within the grace (silent: the vendor's receiver) */
  onHandshake?(greeting: Buffer | undefined, silent: boolean): HookResult | undefined
  /** sink: a buffer the native encoder left to the element (the vendor's wire cannot carry it) */
  onRender?(description: Buffer): HookResult | undefined
  /** sink: end-of-stream to send */
  onEos?(): HookResult | undefined
  /** sink: no receiver listens (errno of connect()) */
  onNoReceiver?(errno: number, reason: string): HookResult | undefined
  /** sink: something else than a release came from the receiver */
  onPeerMessage?(data: Buffer): HookResult | undefined
  /** src: a sender connected; busy: it must wait for the one being served */
  onConnected?(busy: boolean): HookResult | undefined
  /** src: a message the native decoder left to the element, with nFds fds */
  onMessage?(payload: Buffer, nFds: number): HookResult | undefined
  /** the peer went away: sink, how many buffers the receiver held; src, the errno of the read (0 if it
   *  closed) */
  onDisconnected?(code: number): HookResult | undefined
}

/** The helper calls one dispatch function per class with (hook, element, bytes, string, number); each
 *  hook's arguments are read here, once, into the element's typed method. */
const HOOKS: Partial<Record<Hook, (impl: ElementImpl, data: Buffer | undefined, str: string | undefined, num: number) =>
  HookResult | void | undefined>> = {
  [Hook.Start]: impl => impl.onStart?.(),
  [Hook.Stop]: impl => impl.onStop?.(),
  [Hook.SetCaps]: (impl, _data, str) => impl.onSetCaps?.(str ?? ''),
  [Hook.Handshake]: (impl, data, _str, num) => impl.onHandshake?.(data, num === HANDSHAKE_SILENT),
  [Hook.Render]: (impl, data) => impl.onRender?.(data ?? Buffer.alloc(0)),
  [Hook.Eos]: impl => impl.onEos?.(),
  [Hook.NoReceiver]: (impl, _data, str, num) => impl.onNoReceiver?.(num, str ?? ''),
  [Hook.PeerMessage]: (impl, data) => impl.onPeerMessage?.(data ?? Buffer.alloc(0)),
  [Hook.Connected]: (impl, _data, _str, num) => impl.onConnected?.(num === 1),
  [Hook.Message]: (impl, data, _str, num) => impl.onMessage?.(data ?? Buffer.alloc(0), num),
  [Hook.Disconnected]: (impl, _data, _str, num) => impl.onDisconnected?.(num),
}

const registered = new Map<string, bigint>()

/** QTISOCKET_FAULT=<Hook name> makes that hook throw: how the tests prove that an exception in the
 *  TypeScript element becomes an element error */
const fault = process.env.QTISOCKET_FAULT

/** Makes the GType of `gobjectClass`, completes it natively and registers the element factory.
 *  plugin: the GstPlugin of the host shim, or 0n to register in this process only. */
export function registerElement(gobjectClass: abstract new (...args: never[]) => unknown, spec: ElementClassSpec,
  plugin: bigint): bigint {
  let gtype = registered.get(spec.factory)
  if (gtype === undefined) {
    gi.registerClass(gobjectClass)
    gtype = gi.getGType(gobjectClass)
    const instances = new Map<number, ElementImpl>()
    const dispatch: Dispatch = (hook, ptr, data, str, num) => {
      if (hook === Hook.Finalize) {
        instances.delete(ptr)
        return undefined
      }
      let impl = instances.get(ptr)
      if (!impl) {
        impl = new spec.impl(ptr)
        instances.set(ptr, impl)
      }
      try {
        if (fault !== undefined && Hook[hook] === fault)
          throw new Error('injected fault')
        if (hook === Hook.SetProperty) {
          const error = impl.validateProperty(str ?? '', num === 1 ? null : (data ?? Buffer.alloc(0)).toString('utf8'))
          return error ? { error } : undefined
        }
        return HOOKS[hook]?.(impl, data, str, num) ?? undefined
      } catch (e) {
        // never let an exception escape into node-gtk/N-API: it becomes an element error
        const text = e instanceof Error ? e.stack ?? e.message : String(e)
        return { error: `${spec.factory}: internal error in ${Hook[hook]}: ${text}`, action: Action.Error }
      }
    }
    native().defineElement({ ...spec, gtype, dispatch })
    registered.set(spec.factory, gtype)
  }
  if (!native().registerElement(plugin, spec.factory, spec.rank, gtype))
    throw new Error(`gst_element_register(${spec.factory}) failed`)
  return gtype
}

/** The caps every element of this project accepts. */
export const CAPS = 'video/x-raw(ANY); neural-network/tensors; text/x-raw'

/** Both elements take a socket path: refused at once if it does not end in .sock, and the refusal is
 *  remembered so that starting fails with an error naming the path, as a stock element would. */
export abstract class SocketElementImpl extends ElementImpl {
  private refusedPath?: string
  protected path = ''
  /** the string properties that take one of a few words, and the words (the default first) */
  protected readonly words: Readonly<Record<string, readonly string[]>> = {}

  override validateProperty(name: string, value: string | null): string | undefined {
    const words = this.words[name]
    if (words && !words.includes(value ?? '')) {
      const quoted = words.map(w => `"${w}"`)
      return `${name} must be ${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}, not "${value}"`
    }
    if (name !== 'socket')
      return undefined
    const problem = value === null ? undefined : socketPathProblem(value)
    this.refusedPath = problem ? value! : undefined
    return problem
  }

  /** at start: takes the socket path, or says why there is none */
  protected takeSocketPath(): string | undefined {
    const path = this.refusedPath ?? this.prop<string | null>('socket')
    const problem = socketPathProblem(path)
    if (!problem)
      this.path = path!
    return problem
  }
}

/** the common properties of both elements */
export const SOCKET_PROPERTY: PropertySpec = {
  name: 'socket', nick: 'Socket', type: 'string', default: null, writable: true, mutableReady: true,
  blurb: 'Path of the UNIX socket (must end in .sock)',
}

export function socketPathProblem(path: string | null): string | undefined {
  if (path === null || path === '')
    return 'no socket path is set: set the "socket" property to a path ending in ".sock"'
  if (!path.endsWith('.sock') || path.length <= '.sock'.length)
    return `invalid socket path "${path}": it must end in ".sock"`
  return undefined
}
