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
  class Caps {
    static fromString(text: string): Caps
    toString(): string
    getSize(): number
    getStructure(index: number): Structure
  }
  class Structure {
    /** node-gtk returns the out-argument too: [structure, the unparsed rest] */
    static fromString(text: string): [Structure, string]
    getName(): string
    toString(): string
  }
  class Memory {
    /** gsize: a bigint */
    size: bigint
    offset: bigint
    maxsize: bigint
  }
  class Buffer {
    static newAllocate(allocator: null, size: number | bigint, params: null): Buffer
    getSize(): bigint
    nMemory(): number
    peekMemory(index: number): Memory
    appendMemory(memory: Memory): void
  }
  class AllocationParams {}
  class Allocator extends Object {}
}

declare namespace GiGstVideo {
  enum VideoFormat { UNKNOWN = 0, ENCODED = 1, I420 = 2, YV12 = 3, YUY2 = 4, RGBA = 11, GRAY8 = 25, NV12 = 23 }
  enum VideoFrameFlags { NONE = 0 }
  class VideoFormatInfo {
    name: string
  }
  class VideoInfo {
    static newFromCaps(caps: GiGst.Caps): VideoInfo
    finfo: VideoFormatInfo
    width: number
    height: number
    /** gsize: a bigint */
    size: bigint
    stride: number[]
    offset: bigint[]
  }
  class VideoMeta {
    format: VideoFormat
    width: number
    height: number
    nPlanes: number
    offset: bigint[]
    stride: number[]
  }
  class VideoRegionOfInterestMeta {
    id: number
    parentId: number
    x: number
    y: number
    w: number
    h: number
  }
  function bufferAddVideoMeta(buffer: GiGst.Buffer, flags: VideoFrameFlags, format: VideoFormat, width: number,
    height: number): VideoMeta
  function bufferGetVideoMeta(buffer: GiGst.Buffer): VideoMeta | null
  function bufferAddVideoRegionOfInterestMeta(buffer: GiGst.Buffer, roiType: string, x: number, y: number, w: number,
    h: number): VideoRegionOfInterestMeta
  function bufferGetVideoRegionOfInterestMetaId(buffer: GiGst.Buffer, id: number): VideoRegionOfInterestMeta | null
}

declare namespace GiGstAllocators {
  enum FdMemoryFlags { NONE = 0, KEEP_MAPPED = 1, MAP_PRIVATE = 2, DONT_CLOSE = 4 }
  class FdAllocator extends GiGst.Allocator {
    static new(): FdAllocator
    /** takes fd: the memory closes it (unless DONT_CLOSE) */
    static alloc(allocator: FdAllocator, fd: number, size: number | bigint, flags: FdMemoryFlags): GiGst.Memory
  }
  class DmaBufAllocator extends FdAllocator {
    static new(): DmaBufAllocator
  }
  function isFdMemory(memory: GiGst.Memory): boolean
  function isDmabufMemory(memory: GiGst.Memory): boolean
  function fdMemoryGetFd(memory: GiGst.Memory): number
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
  export function require(namespace: 'GstVideo', version?: string): typeof GiGstVideo
  export function require(namespace: 'GstAllocators', version?: string): typeof GiGstAllocators
  /** Registers a JS class deriving from a GObject class as a new GType (named by its static GTypeName). */
  export function registerClass<T extends abstract new (...args: never[]) => unknown>(klass: T): T
  export function getGType(klass: object | bigint): bigint
  export const System: {
    /** the native pointer behind a wrapper, as a number */
    addressOf(wrapper: object): number
  }
}
