// Types for the parts of node-gtk and of the GObject-introspection namespaces this project uses.
// node-gtk ships no types; these are kept by hand and cover only what lib/ calls.

declare namespace GiGObject {
  class Object {
    getProperty(name: string): unknown
    setProperty(name: string, value: unknown): void
  }
  class InitiallyUnowned extends Object {}
}

declare namespace GiGst {
  const VERSION_MAJOR: number
  const VERSION_MINOR: number
  function init(argv: string[] | null): string[] | null
  function isInitialized(): boolean
  class Object extends GiGObject.InitiallyUnowned {
    name: string
    getName(): string
  }
  class Element extends Object {}
  class Bin extends Element {}
  class Pipeline extends Bin {}
}

declare namespace GiGstBase {
  class BaseSink extends GiGst.Element {}
  class BaseSrc extends GiGst.Element {}
  class PushSrc extends BaseSrc {}
}

declare module 'node-gtk' {
  export function require(namespace: 'GObject', version?: string): typeof GiGObject
  export function require(namespace: 'Gst', version?: string): typeof GiGst
  export function require(namespace: 'GstBase', version?: string): typeof GiGstBase
  /** Registers a JS class deriving from a GObject class as a new GType (named by its static GTypeName). */
  export function registerClass<T extends abstract new (...args: never[]) => unknown>(klass: T): T
  export function getGType(klass: object | bigint): bigint
  export const System: {
    /** the native pointer behind a wrapper, as a number */
    addressOf(wrapper: object): number
  }
}
