// The small base layer every element shares, so that an element file reads like a stock element:
// class data (metadata, pad templates, properties), then the per-instance behaviour.
//
// node-gtk's registerClass makes the GType from the TypeScript class (a GstBaseSink or GstPushSrc
// subclass); the native helper completes the class (metadata, templates, properties) and puts its
// trampolines in the vfunc slots: they do the waiting and the fd work on GStreamer threads and call
// `dispatch` with plain bytes. Per instance, the behaviour lives in an ElementImpl keyed by the
// element's pointer (a node-gtk `this` is a generic wrapper, not an instance of our class).
import { gi } from './gst'
import { Action, Dispatch, Hook, HookResult, LogLevel, native, PadTemplateSpec, PropertySpec } from './native'

export interface ElementClassSpec {
  factory: string
  rank: number
  role: 'sink' | 'src'
  longname: string
  klass: string
  description: string
  author: string
  templates: PadTemplateSpec[]
  properties: PropertySpec[]
  impl: new (ptr: number) => ElementImpl
}

export const AUTHOR = 'qtisocket-ts developers'

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

  abstract dispatch(hook: Hook, data: Buffer | undefined, str: string | undefined, num: number): HookResult | undefined
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
        return impl.dispatch(hook, data, str, num)
      } catch (e) {
        // never let an exception escape into node-gtk/N-API: it becomes an element error
        const text = e instanceof Error ? e.stack ?? e.message : String(e)
        return { error: `${spec.factory}: internal error in ${Hook[hook]}: ${text}`, action: Action.Error }
      }
    }
    native().defineElement({
      gtype, role: spec.role, factory: spec.factory, longname: spec.longname, klass: spec.klass,
      description: spec.description, author: spec.author, templates: spec.templates, properties: spec.properties,
      dispatch,
    })
    registered.set(spec.factory, gtype)
  }
  if (!native().registerElement(plugin, spec.factory, spec.rank, gtype))
    throw new Error(`gst_element_register(${spec.factory}) failed`)
  return gtype
}

/** The caps every element of this project accepts. */
export const CAPS = 'video/x-raw(ANY); neural-network/tensors; text/x-raw'

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
