// Registers both elements: with the host shim's GstPlugin (gst-launch, gst-inspect, GI programs), or
// with plugin 0n inside a plain Node program.
import { registerElement } from './element'
import { QtiSocketSink, sinkSpec } from './elements/qtisocketsink'
import { QtiSocketSrc, srcSpec } from './elements/qtisocketsrc'

export function registerElements(plugin: bigint): void {
  registerElement(QtiSocketSink, sinkSpec, plugin)
  registerElement(QtiSocketSrc, srcSpec, plugin)
}
