/**
 * The remote Upscaler against a scripted page (a fake transport that answers as core/src/page/page.ts does):
 * results and bands, typed errors over the wire, cancel that settles even when the page is gone, and the
 * optional stall watchdog.
 */
import { describe, expect, it } from 'vitest';
import { EngineClient, type EngineTransport } from '../src/page/client.js';
import { toMessageImage, type EngineMessage, type HostMessage, type UpscaleRequest } from '../src/page/protocol.js';
import { AbortError, ImageTooLargeError, ModelFileMissingError, RuntimeFailedError } from '../src/errors.js';
import { allocPixels, type PixelImage } from '../src/image.js';
import type { UpscaleStreamResult } from '../src/upscale/types.js';

type Script = (req: UpscaleRequest, send: (m: EngineMessage) => void) => void;

function fakePage(script: Script, ready: EngineMessage = { type: 'ready', backends: ['wasm'] }) {
  let handler: ((m: unknown) => void) | undefined;
  const posted: HostMessage[] = [];
  const send = (m: EngineMessage) => setTimeout(() => handler?.(m), 0);
  const transport: EngineTransport = {
    post(m) {
      posted.push(m);
      if (m.type === 'upscale') script(m, send);
    },
    subscribe(h) {
      handler = h;
      return () => (handler = undefined);
    },
  };
  const client = new EngineClient(transport, { cancelGraceMs: 30 });
  send(ready);
  return { client, posted, send };
}

const result = (w: number, h: number): UpscaleStreamResult => ({
  width: w,
  height: h,
  models: [{ id: 'm', title: 'M', shortTitle: 'M' }],
  preset: 'photo',
  backend: 'wasm',
  precisions: ['fp32'],
  factorX: 2,
  factorY: 2,
  tiles: 1,
  timings: { totalMs: 1, inferenceMs: 1 },
});

function image(w = 4, h = 4): PixelImage {
  const img = allocPixels(w, h, 3, 8);
  img.data.fill(7);
  return img;
}

describe('EngineClient (the remote Upscaler)', () => {
  it('streams bands to the sink in order, resolves with the result; the caller keeps its pixels', async () => {
    const { client } = fakePage((req, send) => {
      for (const y of [0, 4])
        send({ type: 'band', id: req.id, y, outputHeight: 8, image: toMessageImage(allocPixels(8, 4, 3, 8)) });
      send({ type: 'result', id: req.id, result: result(8, 8) });
    });
    const img = image();
    const seen: number[] = [];
    const r = await client.upscaleToSink(img, { scale: 2 }, async ({ y }) => {
      await new Promise((ok) => setTimeout(ok, 5));
      seen.push(y);
    });
    expect(seen).toEqual([0, 4]);
    expect([r.width, r.models[0]!.id]).toEqual([8, 'm']);
    expect(img.data.length).toBe(48);
    expect(img.data[0]).toBe(7);
  });

  it('errors come back as their own classes with their fields', async () => {
    const e = new ImageTooLargeError('Too big.', 9000, 9000, 400e6);
    const { client } = fakePage((req, send) =>
      send({ type: 'error', id: req.id, code: e.code, message: e.message, details: e.details() }),
    );
    const err = await client.upscale(image(), { scale: 4 }).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ImageTooLargeError);
    expect((err as ImageTooLargeError).width).toBe(9000);
  });

  it('a page that failed to start: ready() rejects with the reason, typed', async () => {
    const { client } = fakePage(() => undefined, {
      type: 'ready',
      backends: [],
      error: { code: 'MODEL_FILE_MISSING', message: 'The model list is missing.' },
    });
    await expect(client.ready(1000)).rejects.toBeInstanceOf(ModelFileMissingError);
  });

  it('cancel settles locally when the page never answers, and no band reaches the sink after it', async () => {
    let req: UpscaleRequest | undefined;
    const { client, posted, send } = fakePage((r) => (req = r));
    const abort = new AbortController();
    const bands: number[] = [];
    const job = client.upscaleToSink(image(), { scale: 2 }, ({ y }) => void bands.push(y), { signal: abort.signal });
    await new Promise((ok) => setTimeout(ok, 5));
    abort.abort();
    send({ type: 'band', id: req!.id, y: 0, outputHeight: 8, image: toMessageImage(allocPixels(8, 8, 3, 8)) });
    const t0 = Date.now();
    await expect(job).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(bands).toEqual([]);
    expect(posted.map((m) => m.type)).toEqual(['upscale', 'cancel']);
  });

  it('with stallMs, a silent page fails the job with a plain error; without it, a slow page is waited for', async () => {
    const stalling = new EngineClient({ post: () => undefined, subscribe: () => () => undefined }, { stallMs: 40 });
    await expect(stalling.upscale(image(), { scale: 2 })).rejects.toThrow(RuntimeFailedError);
    await expect(stalling.upscale(image(), { scale: 2 })).rejects.toThrow(/stopped answering/);
    const slow = fakePage((req, send) =>
      setTimeout(
        () =>
          send({ type: 'result', id: req.id, image: toMessageImage(allocPixels(8, 8, 3, 8)), result: result(8, 8) }),
        120,
      ),
    );
    await expect(slow.client.upscale(image(), { scale: 2 })).resolves.toMatchObject({ width: 8 });
  });
});
