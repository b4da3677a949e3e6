// qtisocket-ts for Node programs: register the elements in this process (no plugin needed).
import { registerElements } from './plugin'

export { QtiSocketSink } from './elements/qtisocketsink'
export { QtiSocketSrc } from './elements/qtisocketsrc'
export * as wire from './protocol/wire'
export { BusMessage, Pipeline, PipelineError, PropertyValue, State, StateChange } from './pipeline'

let done = false
/** Registers qtisocketsink and qtisocketsrc for this process (idempotent). */
export function register(): void {
  if (!done)
    registerElements(0n)
  done = true
}
