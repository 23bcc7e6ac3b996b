/**
 * Host side of the engine page protocol (./protocol.ts): start a job, follow its progress, receive its
 * result whole or as bands, cancel it. The transport is the host's: a window/iframe/port in browsers
 * (ArrayBuffers moved in the transfer list), or an adapter over a string-only bridge (the Photoshop
 * plugin's webview wire, photoshop-plugin/src/wire.ts). No DOM or host API is used here.
 */
import { AbortError, EnlargeError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { fromMessageImage, toMessageImage, type Backend, type EngineMessage, type HostMessage, type ResultMessage, type UpscaleOptions, type UpscaleProgress } from './protocol.js';

export interface EngineTransport {
  /** Sends a request; the transport moves or encodes the image buffer as its channel needs. */
  post(message: HostMessage): void;
  /** Calls `handler` with every engine message (already decoded); returns an unsubscribe function. */
  subscribe(handler: (message: EngineMessage) => void): () => void;
}

export interface ClientJobContext {
  onProgress?: (progress: UpscaleProgress) => void;
  /** Given: the job is streamed and each band goes here, top to bottom (awaited in order). */
  onBand?: (band: { y: number; image: PixelImage; outputHeight: number }) => void | Promise<void>;
  /** Rows per band when streaming. */
  bandRows?: number;
  signal?: AbortSignal;
}

export type ClientResult = Omit<ResultMessage, 'type' | 'id' | 'image'> & { image?: PixelImage };

let counter = 0;

export class EngineClient {
  private backendsSeen: Backend[] | undefined;
  private readyWaiters: ((b: Backend[]) => void)[] = [];
  private readonly handlers = new Map<string, (m: EngineMessage) => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly transport: EngineTransport) {
    this.unsubscribe = transport.subscribe((m) => this.dispatch(m));
  }

  /** Backends the page reported in 'ready', or undefined before it did. */
  get backends(): Backend[] | undefined {
    return this.backendsSeen;
  }

  /** Resolves with the page's backends once it is up; rejects after `timeoutMs`. */
  ready(timeoutMs = 20_000): Promise<Backend[]> {
    if (this.backendsSeen) return Promise.resolve(this.backendsSeen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new EnlargeError('RUNTIME_FAILED', `The engine page did not start within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs);
      this.readyWaiters.push((b) => {
        clearTimeout(timer);
        resolve(b);
      });
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /**
   * Runs one job. The image's buffer may be moved by the transport (the caller's copy is then empty).
   * Rejects with an EnlargeError carrying the page's code and message (AbortError after a cancel).
   */
  upscale(image: PixelImage, options: UpscaleOptions, ctx: ClientJobContext = {}): Promise<ClientResult> {
    const id = `job-${Date.now().toString(36)}-${(counter++).toString(36)}`;
    return new Promise<ClientResult>((resolve, reject) => {
      if (ctx.signal?.aborted) {
        reject(new AbortError());
        return;
      }
      // Bands are handed on one at a time, in order, even if the sink is async.
      let chain: Promise<void> = Promise.resolve();
      let failed = false;
      const finish = (fn: () => void) => {
        this.handlers.delete(id);
        ctx.signal?.removeEventListener('abort', onAbort);
        fn();
      };
      const onAbort = () => this.transport.post({ type: 'cancel', id });
      ctx.signal?.addEventListener('abort', onAbort);
      this.handlers.set(id, (m) => {
        if (failed) return;
        switch (m.type) {
          case 'progress':
            ctx.onProgress?.(m.progress);
            break;
          case 'band': {
            const band = { y: m.y, outputHeight: m.outputHeight, image: fromMessageImage(m.image) };
            chain = chain.then(() => ctx.onBand?.(band)).catch((err) => {
              // The sink failed (e.g. the document went away): stop the job, report the sink's error.
              failed = true;
              this.transport.post({ type: 'cancel', id });
              finish(() => reject(err));
            });
            break;
          }
          case 'result': {
            const { type: _t, id: _i, image, ...rest } = m;
            void chain.then(() => {
              if (!failed) finish(() => resolve({ ...rest, image: image ? fromMessageImage(image) : undefined }));
            });
            break;
          }
          case 'error':
            void chain.then(() => {
              if (failed) return;
              finish(() => reject(m.code === 'ABORTED' ? new AbortError(m.message) : new EnlargeError(m.code, m.message)));
            });
            break;
        }
      });
      this.transport.post({
        type: 'upscale',
        id,
        image: toMessageImage(image),
        options,
        ...(ctx.onBand ? { stream: { bandRows: ctx.bandRows } } : {}),
      });
    });
  }

  private dispatch(m: EngineMessage): void {
    if (m.type === 'ready') {
      this.backendsSeen = m.backends;
      for (const w of this.readyWaiters.splice(0)) w(m.backends);
      return;
    }
    this.handlers.get(m.id)?.(m);
  }
}
