// Pipelines for Node programs, as Promises. Parse a description, change state, wait for end-of-stream
// or an error, read and write element properties. State changes and bus waits run on libuv's worker
// threads (plugin/helper/pipeline.c), never on the JS thread: our elements' vfuncs call into JS and
// wait for it, so a set_state made on the JS thread would deadlock against them.
//
//   import { register, Pipeline } from 'qtisocket-ts'
//   register()
//   const p = Pipeline.parse('videotestsrc num-buffers=100 ! qtisocketsink socket=/tmp/cam.sock')
//   await p.run()          // PLAYING, until end-of-stream (or rejects with the error), then NULL
//   p.dispose()
import { native } from './native'

export enum State { Null = 1, Ready = 2, Paused = 3, Playing = 4 }
export enum StateChange { Failure = 0, Success = 1, Async = 2, NoPreroll = 3 }

/** A message from the pipeline's bus. */
export interface BusMessage {
  /** GStreamer's name of the type: 'eos', 'error', 'warning', 'info', 'element', 'state-changed', 'qos' */
  type: string
  /** the name of the object that posted it */
  source: string | null
  /** its structure, serialised (e.g. 'GstQtiSocketConnected, socket=(string)..., peer=(string)...') */
  structure: string | null
  /** error, warning, info: the message and the debug details */
  text?: string | null
  debug?: string | null
}

export type PropertyValue = string | number | boolean | null

/** An error posted by an element, or a state change that failed. */
export class PipelineError extends Error {
  constructor(message: string, readonly source: string | null = null, readonly debug: string | null = null) {
    super(message)
    this.name = 'PipelineError'
  }
}

export class Pipeline {
  private ptr: number

  private constructor(ptr: number) {
    this.ptr = ptr
  }

  /** Parses a gst-launch description (register() the elements first to use ours). Throws a
   *  PipelineError with GStreamer's reason when it does not parse. */
  static parse(description: string): Pipeline {
    try {
      return new Pipeline(native().parseLaunch(description))
    } catch (e) {
      throw new PipelineError(e instanceof Error ? e.message : String(e))
    }
  }

  private get live(): number {
    if (!this.ptr)
      throw new PipelineError('the pipeline was disposed of')
    return this.ptr
  }

  /** Changes state off the JS thread; an asynchronous change is awaited (up to timeoutMs, -1: for
   *  ever). Rejects with the element's error if the change fails. */
  async setState(state: State, timeoutMs = 30000): Promise<StateChange> {
    const ret = await native().setState(this.live, state, timeoutMs) as StateChange
    if (ret === StateChange.Failure) {
      // the reason is on the bus
      for (let m = await this.nextMessage(0); m; m = await this.nextMessage(0)) {
        if (m.type === 'error')
          throw new PipelineError(m.text ?? 'state change failed', m.source, m.debug ?? null)
      }
      throw new PipelineError(`the change to ${State[state]} failed`)
    }
    return ret
  }

  play(timeoutMs?: number): Promise<StateChange> { return this.setState(State.Playing, timeoutMs) }
  pause(timeoutMs?: number): Promise<StateChange> { return this.setState(State.Paused, timeoutMs) }
  stop(): Promise<StateChange> { return this.setState(State.Null) }

  /** The next bus message (end-of-stream, errors, warnings, element messages, state changes, QoS), or
   *  null after timeoutMs (-1: wait for ever). */
  nextMessage(timeoutMs = -1): Promise<BusMessage | null> {
    return native().nextMessage(this.live, timeoutMs)
  }

  /** Plays until end-of-stream, then stops. Rejects with the first error (after stopping). Every
   *  other message goes to onMessage. */
  async run(onMessage?: (m: BusMessage) => void): Promise<void> {
    try {
      await this.play()
      for (;;) {
        const m = await this.nextMessage(1000)
        if (!m)
          continue
        if (m.type === 'eos')
          break
        if (m.type === 'error')
          throw new PipelineError(m.text ?? 'error', m.source, m.debug ?? null)
        onMessage?.(m)
      }
    } finally {
      await this.stop()
    }
  }

  /** A property of the element called `element` (numbers, strings, booleans; structures, caps and
   *  enums as GStreamer writes them). */
  get(element: string, property: string): PropertyValue {
    return native().property(this.live, element, property)
  }

  /** Sets a property from its text, as gst-launch would. */
  set(element: string, property: string, value: string | number | boolean): void {
    native().property(this.live, element, property, value)
  }

  /** Drops the pipeline: stop() it first. */
  dispose(): void {
    if (this.ptr)
      native().release(this.ptr)
    this.ptr = 0
  }
}
