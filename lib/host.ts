// Entry point of the embedded Node started by the host shim (plugin/shim): registers the elements with
// the shim's GstPlugin and tells the shim, which waits for it in plugin_init.
import { hostBinding } from './native'
import { registerElements } from './plugin'

const host = hostBinding()
if (!host)
  throw new Error('dist/lib/host.js runs inside the qtisocket-ts GStreamer plugin only')

// A plugin must never take its host down: an exception nobody caught is reported, not fatal.
process.on('uncaughtException', (e) => {
  process.stderr.write(`qtisocket-ts: uncaught exception: ${e instanceof Error ? e.stack : String(e)}\n`)
})

try {
  registerElements(host.plugin)
  host.ready()
} catch (e) {
  host.ready(e instanceof Error ? e.stack ?? e.message : String(e))
}
