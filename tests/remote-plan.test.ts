/**
 * One plan per job across the engine page's protocol: EngineClient.plan is a round trip to the page, whose
 * engine plans 'auto' with its detectors — so a host names the models the page will run. A real Node engine
 * (real models, real detectors) answers behind the page's own JobQueue; the transport is a direct hand-over.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createNodeEngine } from '../core/src/node/index.js';
import { EngineClient, JobQueue, type EngineMessage, type HostMessage } from '../core/src/page/index.js';
import { planJob } from '../core/src/upscale/plan.js';
import { DEFAULT_LIMITS } from '../core/src/upscale/request.js';
import type { PixelImage } from '../core/src/image.js';

const FACE = join(import.meta.dirname, 'fixtures/faces/2009_004587.jpg');

async function readRgb(file: string): Promise<PixelImage> {
  const { data, info } = await sharp(readFileSync(file)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, bitDepth: 8, data: new Uint8Array(data) };
}

/** A real Node engine behind the page's own JobQueue, and an EngineClient talking to it (messages delivered async). */
function pageAndClient() {
  const engine = createNodeEngine();
  const queue = new JobQueue();
  queue.use(Promise.resolve(engine));
  const listeners = new Set<(m: unknown) => void>();
  const reply = { post: (m: EngineMessage) => setTimeout(() => listeners.forEach((l) => l(m)), 0) };
  const client = new EngineClient(
    {
      post: (m: HostMessage) => (m.type === 'upscale' ? queue.add(m, reply) : queue.cancel(m.id)),
      subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)),
    },
    { catalog: engine.catalog },
  );
  reply.post({ type: 'ready', backends: ['node-cpu'] });
  return { engine, client };
}

describe('remote plan', () => {
  it("the page's plan (auto with detectors) equals the local engine's, and names the models a size-only plan would not", async () => {
    const { engine, client } = pageAndClient();
    try {
      const image = await readRgb(FACE);
      const options = { preset: 'auto' as const, scale: 4, fidelity: 0.5 };
      const local = await engine.plan(image, options);
      const remote = await client.plan(image, options);
      expect(remote.models.map((m) => m.id)).toEqual(local.models.map((m) => m.id));
      expect(remote.output).toEqual(local.output);
      expect(remote.passes.map((p) => [p.model.id, p.tiles.tiles.length, p.work])).toEqual(
        local.passes.map((p) => [p.model.id, p.tiles.tiles.length, p.work]),
      );
      expect(remote.analysis?.portrait).toBe(local.analysis?.portrait);
      expect(remote.memoryBytes).toBe(local.memoryBytes);
      // The plan the old client made on the host (no detectors): another model for this portrait.
      const hostOnly = planJob(image, options, engine.catalog, { limits: DEFAULT_LIMITS, tiles: engine.tiles });
      expect(hostOnly.models.map((m) => m.id)).not.toEqual(remote.models.map((m) => m.id));
      // A verdict over the limits crosses as the same error class and sentence.
      const tooLarge = await client.plan(image, { ...options, scale: 64 });
      const localTooLarge = await engine.plan(image, { ...options, scale: 64 });
      expect(tooLarge.tooLarge?.constructor).toBe(localTooLarge.tooLarge?.constructor);
      expect(tooLarge.tooLarge?.message).toBe(localTooLarge.tooLarge?.message);
    } finally {
      await client.dispose();
      await engine.dispose();
    }
  }, 120_000);

  it('a job announces its plan once, before its first band, locally and through the page: the models that ran', async () => {
    const { engine, client } = pageAndClient();
    try {
      const { data, info } = await sharp(join(import.meta.dirname, 'fixtures/faces/2008_004176.jpg'))
        .resize(48)
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const image: PixelImage = {
        width: info.width,
        height: info.height,
        channels: 3,
        bitDepth: 8,
        data: new Uint8Array(data),
      };
      for (const upscaler of [engine, client]) {
        const events: string[] = [];
        let announced: string[] = [];
        const res = await upscaler.upscaleToSink(
          image,
          { preset: 'auto', scale: 4, fidelity: 0.5 },
          () => void events.push('band'),
          {
            onPlan: (p) => {
              events.push('plan');
              announced = p.models.map((m) => m.id);
            },
          },
        );
        expect(events[0]).toBe('plan');
        expect(events.filter((e) => e === 'plan')).toHaveLength(1);
        expect(events.length).toBeGreaterThan(1);
        expect(announced).toEqual(res.models.map((m) => m.id));
      }
    } finally {
      await client.dispose();
      await engine.dispose();
    }
  }, 120_000);
});
