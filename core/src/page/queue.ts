/**
 * The engine's job queue, shared by every place that serves the engine protocol (./protocol.ts): the engine
 * page (./page.ts, a window talking to its embedder) and hosts that run the engine in a Worker of their own
 * (the Figma UI's blob: worker). Jobs run one at a time, in arrival order; a cancel aborts the running job
 * or drops a queued one; every job ends with exactly one 'result' or 'error'.
 */
import { planToWire } from './plan-wire.js';
import { describeError, RuntimeFailedError, type Surface } from '../errors.js';
import type { Engine, JobPlan, UpscaleProgress } from '../upscale/index.js';
import {
  errorMessage,
  fromMessageImage,
  toMessageImage,
  type EngineMessage,
  type ReadyMessage,
  type UpscaleRequest,
} from './protocol.js';

/**
 * The self-test before 'ready', shared by everything that serves the protocol: a model file is read, verified
 * and started (Engine.prepare), then 'ready' goes out with the engine's capabilities — or with no backends and
 * the reason in `surface`'s words, so a host never takes an engine that cannot run for a working one.
 */
export async function announceReady(
  engine: Promise<Engine>,
  post: (m: ReadyMessage) => void,
  surface: Surface,
): Promise<void> {
  try {
    const e = await engine;
    await e.prepare();
    const capabilities = await e.capabilities();
    post({ type: 'ready', backends: capabilities.backends, capabilities });
  } catch (err) {
    post({ type: 'ready', backends: [], error: describeError(err, surface) });
  }
}

/** Where replies go: a window or port, or UXP's webview bridge (which takes no transfer list). */
export type ReplyTarget = { post(message: EngineMessage): void };

interface Job {
  request: UpscaleRequest;
  reply: ReplyTarget;
  abort: AbortController;
}

/** Runs jobs one at a time, in arrival order; a cancel aborts the running job or drops a queued one. */
export class JobQueue {
  private readonly jobs: Job[] = [];
  private running: Job | undefined;
  private engine: Promise<Engine> | undefined;

  /** Jobs wait for this engine (a failed start is reported to each job). */
  use(engine: Promise<Engine>): void {
    this.engine = engine;
  }

  add(request: UpscaleRequest, reply: ReplyTarget): void {
    if (this.running?.request.id === request.id || this.jobs.some((j) => j.request.id === request.id)) {
      reply.post({
        type: 'error',
        id: request.id,
        code: 'INVALID_OPTION',
        message: `A job with the id "${request.id}" is already running or waiting. Use a new id for every upscale.`,
      });
      return;
    }
    this.jobs.push({ request, reply, abort: new AbortController() });
    void this.pump();
  }

  cancel(id: string): void {
    if (this.running?.request.id === id) {
      this.running.abort.abort();
      return;
    }
    const i = this.jobs.findIndex((j) => j.request.id === id);
    if (i >= 0) {
      const [job] = this.jobs.splice(i, 1);
      job!.reply.post({
        type: 'error',
        id,
        code: 'ABORTED',
        message: 'The upscale was cancelled before it started. Nothing was written.',
      });
    }
    // Unknown or finished ids: nothing to do (the job already got its result or error).
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    const job = this.jobs.shift();
    if (!job) return;
    this.running = job;
    try {
      await this.run(job);
    } finally {
      this.running = undefined;
      void this.pump();
    }
  }

  private async run({ request, reply, abort }: Job): Promise<void> {
    const { id } = request;
    try {
      if (!this.engine)
        throw new RuntimeFailedError('The engine page has not started yet. Wait for its "ready" message.');
      const engine = await this.engine;
      const image = fromMessageImage(request.image);
      const ctx = {
        signal: abort.signal,
        onProgress: (progress: UpscaleProgress) => reply.post({ type: 'progress', id, progress }),
        onPlan: (plan: JobPlan) => reply.post({ type: 'plan', id, plan: planToWire(plan) }),
      };
      const options = request.options ?? {};
      if (request.planOnly) {
        reply.post({ type: 'plan', id, plan: planToWire(await engine.plan(image, options)) });
      } else if (request.stream) {
        const result = await engine.upscaleToSink(
          image,
          options,
          ({ y, image: band, outputHeight }) => {
            reply.post({ type: 'band', id, y, outputHeight, image: toMessageImage(band) });
          },
          {
            ...ctx,
            bandRows: request.stream.bandRows,
            onDetailMap: ({ y, image: band, outputHeight }) => {
              reply.post({ type: 'band', id, y, outputHeight, image: toMessageImage(band), map: true });
            },
          },
        );
        reply.post({ type: 'result', id, result });
      } else {
        // The detail map of a whole-image job stays here: it crosses only as streamed 'band' messages.
        const { image: out, detailMap: _map, ...result } = await engine.upscale(image, options, ctx);
        reply.post({ type: 'result', id, image: toMessageImage(out), result });
      }
    } catch (err) {
      reply.post(errorMessage(id, err));
    }
  }
}
