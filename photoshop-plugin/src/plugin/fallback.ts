/**
 * The webview engine with the in-UXP engine behind it: one Upscaler. When the webview cannot run a job (its
 * files could not be read, its runtime failed, it ran out of memory), the same job runs once more inside UXP
 * over the same sink; the sink's first band (y = 0) replaces whatever the failed attempt wrote.
 */
import {
  EnlargeError,
  type Backend,
  type BandSink,
  type PixelImage,
  type StreamContext,
  type Upscaler,
  type UpscaleContext,
  type UpscaleOptions,
} from '@enlarge/core';
import { dropWebviewClient, inUxpEngineOrExplain, type ChosenEngine } from './engines.js';

/** Webview failures the in-UXP engine may not share: its files could not be read, or its runtime failed. */
const RETRY_IN_UXP = new Set<string>([
  'IO_FAILED',
  'RUNTIME_FAILED',
  'MODEL_FILE_MISSING',
  'MODEL_FILE_TAMPERED',
  'OUT_OF_MEMORY',
]);

export class FallbackUpscaler implements Upscaler {
  /** `beforeFallback`: called once before the job reruns inside UXP (a command closes its dialog then, G4). */
  constructor(
    public current: ChosenEngine,
    private readonly beforeFallback?: () => void,
  ) {}

  private shouldRetry(err: unknown, signal?: AbortSignal): boolean {
    return (
      this.current.where === 'webview' && err instanceof EnlargeError && RETRY_IN_UXP.has(err.code) && !signal?.aborted
    );
  }

  private async fallBack(): Promise<void> {
    dropWebviewClient(this.current.upscaler);
    this.beforeFallback?.();
    this.current = await inUxpEngineOrExplain(true);
  }

  async plan(image: PixelImage, options?: UpscaleOptions) {
    // The webview's plan is a round trip to its page: a page that cannot answer it cannot run the job either.
    try {
      return await this.current.upscaler.plan(image, options);
    } catch (err) {
      if (!this.shouldRetry(err)) throw err;
      await this.fallBack();
      return this.current.upscaler.plan(image, options);
    }
  }
  capabilities() {
    return this.current.upscaler.capabilities();
  }
  async upscale(image: PixelImage, options?: UpscaleOptions, ctx?: UpscaleContext) {
    try {
      return await this.current.upscaler.upscale(image, options, ctx);
    } catch (err) {
      if (!this.shouldRetry(err, ctx?.signal)) throw err;
      await this.fallBack();
      return this.current.upscaler.upscale(image, options, ctx);
    }
  }
  async upscaleToSink(image: PixelImage, options: UpscaleOptions, sink: BandSink, ctx?: StreamContext) {
    try {
      return await this.current.upscaler.upscaleToSink(image, options, sink, ctx);
    } catch (err) {
      if (!this.shouldRetry(err, ctx?.signal)) throw err;
      await this.fallBack();
      return this.current.upscaler.upscaleToSink(image, options, sink, ctx);
    }
  }
  dispose() {
    return this.current.upscaler.dispose();
  }
}

/**
 * `engine` with the in-UXP fallback behind it when it is the webview; its label follows the engine that ran.
 * `beforeFallback` runs just before the rerun inside UXP.
 */
export function withUxpFallback(engine: ChosenEngine, beforeFallback?: () => void): ChosenEngine {
  if (engine.where !== 'webview') return engine;
  const upscaler = new FallbackUpscaler(engine, beforeFallback);
  return {
    upscaler,
    get where() {
      return upscaler.current.where;
    },
    label: (b: Backend) => upscaler.current.label(b),
  };
}
