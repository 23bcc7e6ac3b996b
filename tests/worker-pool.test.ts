/**
 * The pool of inference Workers (core/src/web/pool.ts) on the engine page in real headless Chromium, WASM path:
 * the same bytes with 1 and 2 Workers (and with none, on the page's thread) for x4fast and for Real-CUGAN's
 * whole-image SE statistics; two runs really in flight at once; cancel (also during the SE statistics) ends
 * every busy Worker at once and the next job runs; a Worker lost mid-job, then the last one (the job goes on on the
 * page's thread); a page where Workers cannot start runs on its own thread. Also the N rule, and (with stand-in
 * Workers) the one sentence when one run ends two Workers.
 *
 * An init script wraps the page's `Worker` to watch the pool's messages (runs in flight at once, terminated
 * Workers) — the page's code is unchanged. A lost Worker is stood in for as Chromium reports one whose script
 * stopped: the Worker ends (terminate) and an `error` event reaches its object.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PixelImage } from '../core/src/image.js';
import type { Capabilities, UpscaleOptions } from '../core/src/page/protocol.js';
import {
  parallelRuns,
  poolMemoryBudget,
  poolSize,
  poolLostError,
  WorkerPool,
  WORKER_OVERHEAD_BYTES,
} from '../core/src/web/pool.js';
import { serveEngine, type EngineServer } from '../scripts/src/engine-server.js';
import { CHROMIUM_ARGS, crop, diffStats, photo } from './helpers.js';

/** Before engine.js: a watch on the pool's Workers (what runs, how many at once, which were terminated). */
const WATCH = `
(() => {
  const W = window.Worker;
  const watch = (window.__pool = { workers: [], inFlight: 0, maxInFlight: 0, terminated: 0, busyAtCancel: -1, loads: 0, runs: 0 });
  window.Worker = class extends W {
    constructor(...a) {
      super(...a);
      this.__busy = 0;
      this.__dead = false;
      watch.workers.push(this);
      this.addEventListener('message', (e) => {
        const t = e.data && e.data.type;
        if ((t === 'pool-done' || t === 'pool-failed') && this.__busy) { this.__busy--; watch.inFlight--; }
      });
    }
    postMessage(m, t) {
      if (m && m.type === 'pool-load') watch.loads++;
      if (m && m.type === 'pool-run') { watch.runs++; this.__busy++; watch.inFlight++; watch.maxInFlight = Math.max(watch.maxInFlight, watch.inFlight); }
      return super.postMessage(m, t);
    }
    terminate() {
      if (!this.__dead) { this.__dead = true; watch.terminated++; watch.inFlight -= this.__busy; this.__busy = 0; }
      return super.terminate();
    }
  };
  // Busy Workers still alive right after the engine answered a cancel.
  window.addEventListener('message', (e) => {
    if (e.data && e.data.type === 'error' && e.data.code === 'ABORTED')
      watch.busyAtCancel = watch.workers.filter((w) => !w.__dead && w.__busy > 0).length;
  });
})();`;

/** Makes every Worker refused, as a host that does not allow them (checked: the engine must not assume Workers). */
const NO_WORKERS = `window.Worker = function () { throw new DOMException('Workers are not allowed here', 'SecurityError'); };`;

interface Job {
  /** What to do while the job runs: cancel at its first progress of this phase, or lose Workers. */
  cancelAt?: 'upscale' | 'statistics';
  lose?: number;
}
interface Outcome {
  caps: Capabilities;
  base64?: string;
  error?: { code: string; message: string };
  backend?: string;
  watch: {
    maxInFlight: number;
    terminated: number;
    busyAtCancel: number;
    workers: number;
    loads: number;
    runs: number;
  };
}

let server: EngineServer;
let browser: Browser;

beforeAll(async () => {
  server = await serveEngine();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(query: string, init = WATCH): Promise<{ page: Page; caps: Capabilities }> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  await page.addInitScript(init);
  await page.goto(`${server.url}?backends=wasm&${query}`);
  const caps = await page.evaluate(
    () =>
      new Promise<Capabilities>((ok, no) => {
        const on = (e: MessageEvent) => {
          if (e.data?.type !== 'ready') return;
          window.removeEventListener('message', on);
          if (e.data.error) no(new Error(e.data.error.message));
          else ok(e.data.capabilities);
        };
        window.addEventListener('message', on);
      }),
  );
  return { page, caps };
}

/** One upscale through the page's protocol; the pixels come back base64. */
async function job(
  page: Page,
  caps: Capabilities,
  id: string,
  image: PixelImage,
  options: UpscaleOptions,
  j: Job = {},
): Promise<Outcome> {
  const wire = {
    width: image.width,
    height: image.height,
    channels: image.channels,
    bitDepth: image.bitDepth,
    base64: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength).toString('base64'),
  };
  const out = await page.evaluate(
    ({ id, wire, options, j }) =>
      new Promise<Omit<Outcome, 'caps'>>((ok) => {
        const pool = (
          window as unknown as {
            __pool: {
              workers: Worker[];
              maxInFlight: number;
              terminated: number;
              busyAtCancel: number;
              loads: number;
              runs: number;
            };
          }
        ).__pool;
        let acted = false;
        const on = (e: MessageEvent) => {
          const d = e.data;
          if (!d || d.id !== id) return;
          if (d.type === 'progress' && !acted) {
            // At a tile's end (others are in flight then): the first 'upscale' report comes before any tile.
            if (
              j.cancelAt &&
              d.progress.phase === j.cancelAt &&
              (j.cancelAt === 'statistics' || d.progress.tilesDone >= 2)
            ) {
              acted = true;
              window.postMessage({ type: 'cancel', id }, '*');
            } else if (j.lose && d.progress.phase === 'upscale' && d.progress.tilesDone >= 1) {
              acted = true;
              const live = pool.workers.filter((w) => !(w as unknown as { __dead: boolean }).__dead);
              for (const w of live.slice(0, j.lose)) {
                w.terminate();
                w.dispatchEvent(new ErrorEvent('error', { message: 'Uncaught RuntimeError: unreachable' }));
              }
            }
          }
          if (d.type !== 'result' && d.type !== 'error') return;
          window.removeEventListener('message', on);
          const watch = {
            maxInFlight: pool.maxInFlight,
            terminated: pool.terminated,
            busyAtCancel: pool.busyAtCancel,
            workers: pool.workers.length,
            loads: pool.loads,
            runs: pool.runs,
          };
          if (d.type === 'error') return ok({ error: { code: d.code, message: d.message }, watch });
          const bytes = new Uint8Array(d.image.buffer);
          let s = '';
          for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          ok({ base64: btoa(s), backend: d.result.backend, watch });
        };
        window.addEventListener('message', on);
        const bin = atob(wire.base64);
        const buf = new Uint8Array(bin.length);
        for (let i = 0; i < bin.length; i++) buf[i] = bin.charCodeAt(i);
        const { base64: _, ...rest } = wire;
        window.postMessage({ type: 'upscale', id, image: { ...rest, buffer: buf.buffer }, options }, '*', [buf.buffer]);
      }),
    { id, wire, options, j },
  );
  return { caps, ...out };
}

function pixels(o: Outcome): Uint8Array {
  if (o.error) throw new Error(`${o.error.code}: ${o.error.message}`);
  return new Uint8Array(Buffer.from(o.base64!, 'base64'));
}

describe('worker pool: the N rule', () => {
  it('one Worker per reported core, 8 at most, a setting overrides; memory caps the runs at once', () => {
    expect(poolSize(undefined)).toBe(1);
    expect(poolSize(1)).toBe(1);
    expect(poolSize(2)).toBe(2);
    expect(poolSize(6)).toBe(6);
    expect(poolSize(64)).toBe(8);
    expect(poolSize(0)).toBe(1);
    expect(poolSize(64, 12)).toBe(12);
    expect(poolSize(2, 1)).toBe(1);
    expect(poolSize(4, 100)).toBe(32);
    // navigator.deviceMemory 8 (Chromium's cap) → a 2 GiB budget; none → 1 GiB.
    expect(poolMemoryBudget(8)).toBe(2 * 2 ** 30);
    expect(poolMemoryBudget(undefined)).toBe(2 ** 30);
    // x4fast, 256² tiles (a 276² window at 1024 B/px): 78 MB + 64 MB overhead each → 7 fit in 1 GiB.
    const x4fast = 1024 * 276 * 276;
    expect(parallelRuns(8, x4fast, 2 ** 30)).toBe(Math.floor(2 ** 30 / (x4fast + WORKER_OVERHEAD_BYTES)));
    expect(parallelRuns(8, x4fast, 2 ** 30)).toBe(7);
    expect(parallelRuns(2, x4fast, 2 ** 30)).toBe(2);
    // A working set larger than the budget still runs, one at a time.
    expect(parallelRuns(8, 4 * 2 ** 30, 2 ** 30)).toBe(1);
  });
});

/**
 * The pool's bookkeeping with stand-in Workers (EventTargets that answer the pool protocol's start and load, and
 * keep runs until told): which Worker a run goes to when one is lost, and the one sentence when a run ended two.
 */
class StandIn extends EventTarget {
  runs: { id: number; session: number }[] = [];
  /** Every message's type and session, in order. */
  said: string[] = [];
  /** Answer a load with this failure instead of 'loaded'. */
  failLoad?: { code: string; message: string };
  /** Sessions whose last load failed, with the failure (their runs fail with it, as pool-worker.ts's do). */
  private failed = new Map<number, { code: string; message: string }>();
  ended = false;
  postMessage(m: { type: string; id?: number; session?: number }): void {
    const answer = (data: unknown) =>
      queueMicrotask(() => this.dispatchEvent(Object.assign(new Event('message'), { data })));
    if (m.type !== 'pool-init') this.said.push(`${m.type} ${m.session}`);
    if (m.type === 'pool-init') answer({ type: 'pool-hello' });
    else if (m.type === 'pool-load') {
      if (this.failLoad) this.failed.set(m.session!, this.failLoad);
      else this.failed.delete(m.session!);
      answer({ type: 'pool-loaded', session: m.session, ...(this.failLoad ? { error: this.failLoad } : {}) });
    } else if (m.type === 'pool-run') this.runs.push({ id: m.id!, session: m.session! });
  }
  /** Ends the oldest run it holds: outputs {}, or its session's load failure. */
  finish(): void {
    const r = this.runs.shift();
    if (!r) return;
    const error = this.failed.get(r.session);
    const data = error ? { type: 'pool-failed', id: r.id, error } : { type: 'pool-done', id: r.id, outputs: {} };
    this.dispatchEvent(Object.assign(new Event('message'), { data }));
  }
  terminate(): void {
    this.ended = true;
  }
  crash(): void {
    this.terminate();
    this.dispatchEvent(new Event('error', { cancelable: true }));
  }
}

/** A pool of `n` stand-in Workers (as `Worker` while `body` runs). */
async function withStandIns(n: number, body: (pool: WorkerPool, made: StandIn[]) => Promise<void>): Promise<void> {
  const made: StandIn[] = [];
  const g = globalThis as { Worker?: unknown };
  const before = g.Worker;
  g.Worker = StandIn;
  try {
    const pool = (await WorkerPool.start({
      start: () => {
        const w = new StandIn();
        made.push(w);
        return w as unknown as Worker;
      },
      wasm: { paths: '/' },
      workers: n,
    }))!;
    await body(pool, made);
  } finally {
    g.Worker = before;
  }
}

const FEED = () => ({ input: { data: new Float32Array(1), dims: [1, 1, 1, 1] } });

describe('worker pool: a model loads into a Worker at its first run of it', () => {
  it('a load starts one session; a second run at once loads it on the next Worker just before its run', async () => {
    await withStandIns(3, async (pool, made) => {
      const session = await pool.load(new Uint8Array(8));
      expect(made.map((w) => w.said)).toEqual([[`pool-load ${session}`], [], []]);
      const a = pool.run(session, FEED());
      const b = pool.run(session, FEED());
      expect(made.map((w) => w.said)).toEqual([
        [`pool-load ${session}`, `pool-run ${session}`],
        [`pool-load ${session}`, `pool-run ${session}`],
        [],
      ]);
      made[0]!.finish();
      made[1]!.finish();
      await Promise.all([a, b]);
      // Loaded once per Worker: the next runs go straight to their sessions.
      const c = pool.run(session, FEED());
      expect(made[0]!.said.at(-1)).toBe(`pool-run ${session}`);
      made[0]!.finish();
      await c;
      // Dropped only where it was loaded.
      pool.drop(session);
      expect(made.map((w) => w.said.filter((x) => x.startsWith('pool-drop')).length)).toEqual([1, 1, 0]);
    });
  });

  it('a model that does not load fails its load with its own error; the next run loads it again', async () => {
    await withStandIns(2, async (pool, made) => {
      made[0]!.failLoad = { code: 'OUT_OF_MEMORY', message: 'no room' };
      await expect(pool.load(new Uint8Array(8))).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
      made[0]!.failLoad = undefined;
      const session = await pool.load(new Uint8Array(8));
      made[1]!.failLoad = { code: 'OUT_OF_MEMORY', message: 'no room' };
      const a = pool.run(session, FEED());
      const b = pool.run(session, FEED());
      made[0]!.finish();
      await a;
      // Worker 1's load failed: the run sent with it fails with the load's error (a typed OutOfMemoryError, so
      // the engine halves its tiles), and the failed answer drops the session there.
      await new Promise((r) => setTimeout(r, 0));
      made[1]!.failLoad = undefined;
      made[1]!.finish();
      await expect(b).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
      // Its next run sends the load again, and runs.
      const c = pool.run(session, FEED());
      const d = pool.run(session, FEED());
      expect(made[1]!.said.filter((x) => x === `pool-load ${session}`)).toHaveLength(2);
      made[0]!.finish();
      made[1]!.finish();
      await Promise.all([c, d]);
    });
  });
});

describe('worker pool: a run that ends Workers', () => {
  it('goes to another Worker once; ending a second one fails the job with one sentence', async () => {
    await withStandIns(3, async (pool, made) => {
      expect(pool.size).toBe(3);
      const session = await pool.load(new Uint8Array(8));
      const run = pool.run(session, FEED());
      const holder = () => made.find((w) => !w.ended && w.runs.length > 0)!;
      const first = holder();
      first.crash();
      const second = holder();
      expect(second).not.toBe(first);
      expect(second.runs.map((r) => r.id)).toEqual(first.runs.map((r) => r.id));
      second.crash();
      await expect(run).rejects.toThrow(poolLostError().message);
      expect(pool.size).toBe(1);
    });
  });
});

describe('worker pool on the engine page (Chromium, WASM)', () => {
  // Three pages (each start compiles the runtime once per Worker): 1 Worker (the reference bytes), 2 Workers, and
  // one that may not start Workers (the page's own thread).
  const X4: UpscaleOptions = { model: 'realesrgan-x4fast', scale: 4, tileSize: 32 };
  const CUGAN: UpscaleOptions = { model: 'realcugan-x2-conservative', scale: 2, tileSize: 24 };
  let img64: PixelImage;
  let img48: PixelImage;
  const ref: Record<string, Uint8Array> = {};
  let two: { page: Page; caps: Capabilities };

  beforeAll(async () => {
    img64 = crop(await photo(), 96, 96, 64, 64);
    img48 = crop(await photo(), 100, 100, 48, 48);
    const one = await open('workers=1');
    try {
      expect(one.caps.workers).toBe(1);
      const a = await job(one.page, one.caps, 'x4', img64, X4);
      expect(a.watch.maxInFlight).toBe(1);
      ref['x4'] = pixels(a);
      ref['cugan'] = pixels(await job(one.page, one.caps, 'cugan', img48, CUGAN));
    } finally {
      await one.page.close();
    }
    two = await open('workers=2');
  }, 180_000);

  afterAll(async () => {
    await two?.page.close();
  });

  it('x4fast: 2 Workers give the bytes of 1 Worker, two tiles in flight at once', async () => {
    expect(two.caps.workers).toBe(2);
    const o = await job(two.page, two.caps, 'x4', img64, X4);
    expect(o.backend).toBe('wasm');
    expect(o.watch.maxInFlight).toBe(2);
    expect(ref['x4']!.length).toBe(256 * 256 * 3);
    expect(diffStats(pixels(o), ref['x4']!).max).toBe(0);
  }, 120_000);

  it("Real-CUGAN: the SE statistics spread over 2 Workers give 1 Worker's bytes", async () => {
    const o = await job(two.page, two.caps, 'cugan', img48, CUGAN);
    expect(ref['cugan']!.length).toBe(96 * 96 * 3);
    expect(diffStats(pixels(o), ref['cugan']!).max).toBe(0);
  }, 120_000);

  it('cancel stops every busy Worker at once (also during the SE statistics); the next job runs', async () => {
    const big = crop(await photo(), 64, 64, 128, 128);
    const before = (await job(two.page, two.caps, 'probe', crop(img64, 0, 0, 8, 8), X4)).watch.terminated;
    const a = await job(two.page, two.caps, 'cancel-tiles', big, X4, { cancelAt: 'upscale' });
    expect(a.error?.code).toBe('ABORTED');
    expect(a.watch.busyAtCancel).toBe(0);
    expect(a.watch.terminated).toBeGreaterThan(before);
    const b = await job(two.page, two.caps, 'cancel-se', img48, CUGAN, { cancelAt: 'statistics' });
    expect(b.error?.code).toBe('ABORTED');
    expect(b.watch.busyAtCancel).toBe(0);
    expect(b.watch.terminated).toBeGreaterThan(a.watch.terminated);
    // Fresh Workers replaced the ended ones: the next job runs on two again, with the same bytes.
    const c = await job(two.page, two.caps, 'after', img64, X4);
    expect(diffStats(pixels(c), ref['x4']!).max).toBe(0);
  }, 120_000);

  it('a Worker lost mid-job: the job finishes on the other with the same bytes; the last one lost: on the page', async () => {
    const o = await job(two.page, two.caps, 'lose-one', img64, X4, { lose: 1 });
    expect(diffStats(pixels(o), ref['x4']!).max).toBe(0);
    const all = await job(two.page, two.caps, 'lose-all', img64, X4, { lose: 1 });
    expect(all.watch.workers - all.watch.terminated).toBe(0);
    expect(diffStats(pixels(all), ref['x4']!).max).toBe(0);
  }, 120_000);

  it('a page that may not start Workers runs on its own thread, with the same bytes (no Workers said)', async () => {
    const { page, caps } = await open('', `${WATCH}\n${NO_WORKERS}`);
    try {
      expect(caps.workers).toBeUndefined();
      expect(caps.backends).toEqual(['wasm']);
      const o = await job(page, caps, 'no-workers', img64, X4);
      expect(o.watch.workers).toBe(0);
      expect(diffStats(pixels(o), ref['x4']!).max).toBe(0);
    } finally {
      await page.close();
    }
  }, 120_000);
});
