// A consumer process in TypeScript: receives frames with qtisocketsrc (registered in this Node process)
// and encodes them into an MP4 file, printing progress once a second from the source's stats.
//   node dist/examples/consumer.js [SOCKET] [OUT.mp4]
import { Pipeline, register } from '../lib'

async function main(): Promise<void> {
  const [socket = '/tmp/qtisocket-example.sock', out = 'received.mp4'] = process.argv.slice(2)
  register()
  const pipeline = Pipeline.parse(`qtisocketsrc name=src socket=${socket} ! queue ! videoconvert ! ` +
    `x264enc speed-preset=ultrafast ! mp4mux ! filesink location=${out}`)
  const received = () => Number(/received=\(guint64\)(\d+)/.exec(String(pipeline.get('src', 'stats')))?.[1] ?? 0)
  const progress = setInterval(() => console.log(`received ${received()} frames`), 1000)
  try {
    await pipeline.run(m => {
      if (m.type === 'element' || m.type === 'warning')
        console.log(`${m.source}: ${m.text ?? m.structure}`)
    })
  } finally {
    clearInterval(progress)
  }
  console.log(`done: received ${received()} frames into ${out}`)
  pipeline.dispose()
}

main().catch(e => {
  console.error(`consumer: ${e instanceof Error ? e.message : e}`)
  process.exit(1)
})
