// A producer process in TypeScript: draws frames and sends them with qtisocketsink, registered in this
// Node process (no plugin), the pipeline driven through Promises.
//   node dist/examples/producer.js [SOCKET] [FRAMES]
import { Pipeline, register } from '../lib'

async function main(): Promise<void> {
  const [socket = '/tmp/qtisocket-example.sock', frames = '150'] = process.argv.slice(2)
  register()
  const pipeline = Pipeline.parse(`videotestsrc num-buffers=${frames} pattern=ball ! ` +
    'video/x-raw,format=NV12,width=640,height=360,framerate=30/1 ! ' +
    `qtisocketsink name=sink socket=${socket} wait-for-connection=true`)
  await pipeline.run(m => {
    if (m.type === 'element' || m.type === 'warning')
      console.log(`${m.source}: ${m.text ?? m.structure}`)
  })
  console.log(`sent: ${pipeline.get('sink', 'stats')}`)
  pipeline.dispose()
}

main().catch(e => {
  console.error(`producer: ${e instanceof Error ? e.message : e}`)
  process.exit(1)
})
