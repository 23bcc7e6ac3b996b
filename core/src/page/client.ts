/**
 * The remote Upscaler: the same calls as the in-process Engine, carried over the engine page's protocol
 * (./protocol.ts) — start a job, follow its progress, receive its result whole or as bands, cancel it.
 * Errors come back as their own classes (errorFromCode). The transport is the host's: a window, iframe or
 * port in browsers (ArrayBuffers moved in the transfer list), or an adapter over a string-only bridge
 * (Photoshop's webview, photoshop-plugin/src/wire.ts). No DOM or host API is used here.
 *
 * A cancelled job settles here after `cancelGraceMs` even if the page never confirms (a webview that went
 * away), so a host's modal scope (Photoshop's executeAsModal) always ends; with `stallMs`, a job the page
 * stops answering fails with a plain error.
 */
import { AbortError, errorFromCode, RuntimeFailedError } from '../errors.js';
import type { PixelImage } from '../image.js';
import type { Catalog } from '../models.js';
import type {
  BandSink,
  Capabilities,
  JobPlan,
  StreamContext,
  UpscaleContext,
  UpscaleOptions,
  UpscaleResult,
  UpscaleStreamResult,
  Upscaler,
} from '../upscale/types.js';
import {
  fromMessageImage,
  isEngineMessage,
  toMessageImage,
  type EngineMessage,
  type HostMessage,
  type ReadyMessage,
  type WirePlan,
} from './protocol.js';
import { planFromWire } from './plan-wire.js';

export interface EngineTransport {
  /** Sends a request; the transport moves or encodes the image buffer as its channel needs. */
  post(message: HostMessage): void;
  /** Calls `handler` with every engine message (already decoded); returns an unsubscribe function. */
  subscribe(handler: (message: unknown) => void): () => void;
}

export interface ClientOptions {
  /** The catalog the page runs (the plugin's bundled one): `plan()` names its models from it. */
  catalog?: Catalog;
  /**
   * A job fails after this long without any message for it (default: never). The page is silent while a tile
   * computes (a WASM tile of the large model can take a minute on a slow machine) and while a job waits in
   * its queue, so a host that sets this sets it well above its slowest tile.
   */
  stallMs?: number;
  /** A cancelled job settles after this long if the page does not confirm (default 3 s). */
  cancelGraceMs?: number;
}

let counter = 0;

export class EngineClient implements Upscaler {
  private readyMessage: ReadyMessage | undefined;
  private readyWaiters: ((m: ReadyMessage) => void)[] = [];
  private readonly handlers = new Map<string, (m: EngineMessage) => void>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly transport: EngineTransport,
    private readonly options: ClientOptions = {},
  ) {
    this.unsubscribe = transport.subscribe((m) => {
      if (isEngineMessage(m)) this.dispatch(m);
    });
  }

  /** Backends the page reported in 'ready', or undefined before it did. */
  get backends(): ReadyMessage['backends'] | undefined {
    return this.readyMessage?.backends;
  }

  /** Resolves with the page's backends once its engine is up; rejects if it failed to start or after `timeoutMs`. */
  async ready(timeoutMs = 20_000): Promise<ReadyMessage['backends']> {
    const m =
      this.readyMessage ??
      (await new Promise<ReadyMessage>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new RuntimeFailedError(`The engine page did not start within ${Math.round(timeoutMs / 1000)} s.`)),
          timeoutMs,
        );
        this.readyWaiters.push((r) => {
          clearTimeout(timer);
          resolve(r);
        });
      }));
    if (m.backends.length === 0)
      throw errorFromCode(m.error?.code ?? 'RUNTIME_FAILED', m.error?.message ?? 'The engine page could not start.');
    return m.backends;
  }

  async capabilities(): Promise<Capabilities> {
    const backends = await this.ready();
    return (
      this.readyMessage!.capabilities ?? {
        backends,
        webgpu: backends.includes('webgpu'),
        wasmSimd: true,
        wasmThreads: false,
        threads: 1,
        secureContext: false,
        digest: 'unknown',
      }
    );
  }

  /**
   * The page's own plan for this job (a round trip: the page's engine plans it with its detectors, limits and
   * tiles), so a host names the models the page will run, not those of a second plan made here.
   */
  async plan(image: PixelImage, options: UpscaleOptions = {}): Promise<JobPlan> {
    const catalog = this.options.catalog;
    if (!catalog)
      throw new RuntimeFailedError('This engine client was created without a catalog, so it cannot plan jobs.');
    const wire = (await this.job(image, options, {}, undefined, undefined, true)) as WirePlan;
    return planFromWire(wire, catalog);
  }

  async dispose(): Promise<void> {
    this.unsubscribe();
    for (const h of [...this.handlers.values()])
      h({
        type: 'error',
        id: '',
        code: 'RUNTIME_FAILED',
        message: 'The engine was closed before the job finished. Nothing was written.',
      });
  }

  async upscale(image: PixelImage, options: UpscaleOptions = {}, ctx: UpscaleContext = {}): Promise<UpscaleResult> {
    return this.job(image, options, ctx, undefined) as Promise<UpscaleResult>;
  }

  async upscaleToSink(
    image: PixelImage,
    options: UpscaleOptions,
    sink: BandSink,
    ctx: StreamContext = {},
  ): Promise<UpscaleStreamResult> {
    return this.job(image, options, ctx, sink, ctx.bandRows) as Promise<UpscaleStreamResult>;
  }

  /** One job. The page gets a copy of the pixels: the caller's image stays intact, as with the local engine. */
  private job(
    image: PixelImage,
    options: UpscaleOptions,
    ctx: UpscaleContext,
    sink: BandSink | undefined,
    bandRows?: number,
    planOnly = false,
  ): Promise<UpscaleStreamResult | UpscaleResult | WirePlan> {
    const id = `job-${Date.now().toString(36)}-${(counter++).toString(36)}`;
    const { stallMs } = this.options;
    const graceMs = this.options.cancelGraceMs ?? 3_000;
    return new Promise((resolve, reject) => {
      if (ctx.signal?.aborted) return reject(new AbortError());
      // Bands are handed on one at a time, in order, even if the sink is async.
      let chain: Promise<void> = Promise.resolve();
      let settled = false;
      let cancelled = false;
      let stall: ReturnType<typeof setTimeout> | undefined;
      let grace: ReturnType<typeof setTimeout> | undefined;
      const finish = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(stall);
        clearTimeout(grace);
        this.handlers.delete(id);
        ctx.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const armStall = () => {
        if (stallMs === undefined) return;
        clearTimeout(stall);
        stall = setTimeout(() => {
          this.transport.post({ type: 'cancel', id });
          // A band already handed to the sink finishes first: nothing is left half-written.
          void chain.then(() =>
            finish(() =>
              reject(
                new RuntimeFailedError(
                  `The engine stopped answering (nothing for ${Math.round(stallMs / 1000)} s). Nothing was written; try again, or restart the plugin.`,
                ),
              ),
            ),
          );
        }, stallMs);
      };
      const onAbort = () => {
        cancelled = true; // no more bands reach the sink
        this.transport.post({ type: 'cancel', id });
        grace ??= setTimeout(() => void chain.then(() => finish(() => reject(new AbortError()))), graceMs);
      };
      ctx.signal?.addEventListener('abort', onAbort);
      this.handlers.set(id, (m) => {
        if (settled) return;
        if (m.type === 'result' || m.type === 'error' || (m.type === 'plan' && planOnly)) clearTimeout(stall);
        else armStall();
        switch (m.type) {
          case 'progress':
            if (!cancelled) ctx.onProgress?.(m.progress);
            break;
          case 'band': {
            if (cancelled) break;
            const band = { y: m.y, outputHeight: m.outputHeight, image: fromMessageImage(m.image) };
            chain = chain
              .then(() => (m.map ? (ctx as StreamContext).onDetailMap?.(band) : sink?.(band)))
              .catch((err) => {
                // The sink failed (e.g. the document went away): stop the job, report the sink's error.
                this.transport.post({ type: 'cancel', id });
                finish(() => reject(err));
              });
            break;
          }
          case 'result':
            void chain.then(() =>
              finish(() =>
                cancelled
                  ? reject(new AbortError())
                  : resolve(m.image ? { ...m.result, image: fromMessageImage(m.image) } : m.result),
              ),
            );
            break;
          case 'plan': {
            if (planOnly) {
              finish(() => (cancelled ? reject(new AbortError()) : resolve(m.plan)));
              break;
            }
            // A job's announced plan: before its first band, in order with the bands.
            const catalog = this.options.catalog;
            if (cancelled || !catalog || !ctx.onPlan) break;
            chain = chain
              .then(() => ctx.onPlan?.(planFromWire(m.plan, catalog)))
              .catch((err) => {
                this.transport.post({ type: 'cancel', id });
                finish(() => reject(err));
              });
            break;
          }
          case 'error':
            void chain.then(() => finish(() => reject(errorFromCode(m.code, m.message, m.details))));
            break;
        }
      });
      armStall();
      this.transport.post({
        type: 'upscale',
        id,
        image: toMessageImage(image, { copy: true }),
        options,
        ...(sink ? { stream: { bandRows } } : {}),
        ...(planOnly ? { planOnly } : {}),
      });
    });
  }

  private dispatch(m: EngineMessage): void {
    if (m.type === 'ready') {
      this.readyMessage = m;
      for (const w of this.readyWaiters.splice(0)) w(m);
      return;
    }
    this.handlers.get(m.id)?.(m);
  }
}
