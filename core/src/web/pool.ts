/**
 * A pool of inference Workers for the WASM path: N Workers, each with its own single-threaded onnxruntime-web
 * session of the model files it has run (a Worker loads a model at its first run of it), so N tiles are enlarged
 * at once with plain message passing.
 * onnxruntime-web's own threads need SharedArrayBuffer, which only a cross-origin-isolated page has — none of
 * the hosts' pages (Figma's `data:` UI, Photoshop's `plugin:` webview) can be; Workers need nothing of it.
 *
 * The engine is unchanged: its runner factory (`poolRunnerFactory`) hands out runners whose `run` goes to the
 * next free Worker, and the tiled pass (../upscale/pass.ts) keeps as many tiles in flight as the runner's
 * `parallel()` allows, writing them in tile order — so the result is the one a single Worker makes, byte for
 * byte. SE statistics (Real-CUGAN) are spread the same way and summed in tile order (../upscale/se-statistics.ts).
 *
 * How many Workers (`poolSize`): one per core the browser reports (`navigator.hardwareConcurrency`), at most
 * MAX_POOL_WORKERS; a host setting overrides it. How many run at once for a pass (`parallel`): as many as the
 * memory budget holds — each Worker needs the model's working set for its tile window
 * (`peakBytesPerPixel` × window) plus WORKER_OVERHEAD_BYTES — where the budget is a quarter of
 * `navigator.deviceMemory` (which browsers round and cap at 8 GB), else DEFAULT_POOL_BUDGET.
 *
 * Where a Worker cannot start (refused, never answering: ./worker-start.ts) the pool is smaller; with none,
 * `startWorkerPool` returns undefined and the engine runs on its own thread. A Worker lost mid-job (an `error`
 * event: its script stopped) is dropped and its run goes to another Worker; with none left, the runs go on on the
 * engine's thread. A run that ended two Workers fails the job with one sentence (`poolLostError`), rather than
 * end a third or the page. Cancel (`abort`) terminates every busy Worker at once; fresh ones replace them.
 */
import { AbortError, errorFromCode, RuntimeFailedError } from '../errors.js';
import type { Runner, RunnerFactory, RunnerOptions, TensorData } from '../runtime/runner.js';
import type { FromPoolWorker, ToPoolWorker } from './pool-protocol.js';
import { createWorker, firstAnswer, WORKER_ANSWER_MS } from './worker-start.js';

/** The most Workers a pool starts unless a setting asks for more (a 64-core machine gets 8). */
export const MAX_POOL_WORKERS = 8;
/** The most a setting may ask for. */
export const MAX_POOL_WORKERS_SETTING = 32;
/** A Worker's own memory besides its tile: the runtime's compiled .wasm, its heap, the model's weights (small). */
export const WORKER_OVERHEAD_BYTES = 64 * 2 ** 20;
/** The pool's memory budget where the browser does not say how much memory the device has. */
export const DEFAULT_POOL_BUDGET = 1024 * 2 ** 20;

/** Workers to start: `override` (a host setting, 1…MAX_POOL_WORKERS_SETTING) or one per reported core (1…MAX_POOL_WORKERS). */
export function poolSize(cores: number | undefined, override?: number): number {
  if (override !== undefined && Number.isFinite(override) && override >= 1)
    return Math.min(MAX_POOL_WORKERS_SETTING, Math.floor(override));
  const c = cores !== undefined && Number.isFinite(cores) && cores >= 1 ? Math.floor(cores) : 1;
  return Math.min(MAX_POOL_WORKERS, c);
}

/** The memory the pool's runs may use together: a quarter of `navigator.deviceMemory` (GB), else DEFAULT_POOL_BUDGET. */
export function poolMemoryBudget(deviceMemoryGB: number | undefined): number {
  if (deviceMemoryGB === undefined || !Number.isFinite(deviceMemoryGB) || deviceMemoryGB <= 0)
    return DEFAULT_POOL_BUDGET;
  return (deviceMemoryGB * 2 ** 30) / 4;
}

/** Runs that fit the budget at once, for runs of `workingSet` bytes each, on `workers` Workers (at least 1). */
export function parallelRuns(workers: number, workingSet: number, budget: number): number {
  const fit = Math.floor(budget / (Math.max(0, workingSet) + WORKER_OVERHEAD_BYTES));
  return Math.max(1, Math.min(workers, fit));
}

export interface PoolOptions {
  /** Starts one inference Worker: the host's script in its pool role (it calls ./pool-worker.ts's servePoolWorker). */
  start(): Worker;
  /** How the Workers find onnxruntime-web's .wasm: its bytes (copied to each), or the folder URL they load it from. */
  wasm: { binary: Uint8Array } | { paths: string };
  /** Workers to start (default `poolSize(navigator.hardwareConcurrency)`). */
  workers?: number;
  /** Bytes the pool's runs may use together (default `poolMemoryBudget(navigator.deviceMemory)`). */
  memoryBudget?: number;
  /** How long a Worker has to answer before it counts as not started (default WORKER_ANSWER_MS). */
  answerMs?: number;
}

interface Task {
  id: number;
  session: number;
  feeds: Record<string, TensorData>;
  outputs?: readonly string[];
  tries: number;
  resolve(out: Record<string, TensorData>): void;
  reject(err: Error): void;
}

interface Lane {
  worker: Worker;
  busy?: Task;
  /** Sessions this Worker was sent (loaded, or loading: its runs wait for the load in the Worker). */
  has: Set<number>;
  /** Loads this Worker has not answered yet that someone waits for. */
  loads: Map<number, { resolve(): void; reject(err: Error): void }>;
}

/** The sentence for a job whose Workers all stopped. */
export function poolLostError(): RuntimeFailedError {
  return new RuntimeFailedError(
    "The upscaler's background workers stopped (the browser may have run out of memory), so nothing was changed. Try again, or try a smaller image.",
  );
}

/** No Worker is left to take a run: the runner runs it on the engine's thread instead. */
export class PoolEmptyError extends Error {
  override name = 'PoolEmptyError';
}

export class WorkerPool {
  private readonly lanes: Lane[] = [];
  private readonly queue: Task[] = [];
  /** Model bytes by session handle: what a Worker loads before its first run of it. */
  private readonly models = new Map<number, Uint8Array>();
  private nextId = 1;
  private nextSession = 1;
  private starting = 0;
  private disposed = false;
  /** Workers the pool keeps (a lost one lowers it; one ended by `abort` is replaced). */
  private target: number;
  readonly budget: number;

  private constructor(
    private readonly options: PoolOptions,
    target: number,
  ) {
    this.target = target;
    const nav = (globalThis as { navigator?: { deviceMemory?: number } }).navigator;
    this.budget = options.memoryBudget ?? poolMemoryBudget(nav?.deviceMemory);
  }

  /** Starts the Workers; resolves once each answered or failed to. Undefined when none started. */
  static async start(options: PoolOptions): Promise<WorkerPool | undefined> {
    const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
    const n = options.workers ?? poolSize(nav?.hardwareConcurrency);
    const pool = new WorkerPool(options, n);
    await pool.replenish();
    if (pool.lanes.length === 0) return undefined;
    pool.target = pool.lanes.length;
    return pool;
  }

  /** Workers ready for runs now. */
  get size(): number {
    return this.lanes.length;
  }

  /** Whether any Worker runs or is starting (after every Worker was lost, none is). */
  get alive(): boolean {
    return this.lanes.length > 0 || this.starting > 0;
  }

  /** Runs of `workingSet` bytes each that may go at once. */
  parallel(workingSet: number): number {
    return parallelRuns(this.lanes.length, workingSet, this.budget);
  }

  /**
   * Starts a session of `bytes` on one Worker (the first idle one) and resolves with its handle once it has it (a
   * model that does not load fails here). The other Workers load it at their first run of it, so a job of one tile
   * costs one session, not N; a pass of several tiles loads it on the others while the first runs.
   */
  async load(bytes: Uint8Array): Promise<number> {
    const lane = this.lanes.find((l) => !l.busy) ?? this.lanes[0];
    if (!lane) throw new PoolEmptyError();
    const session = this.nextSession++;
    this.models.set(session, bytes);
    try {
      await this.loadOn(lane, session, bytes);
    } catch (err) {
      this.drop(session);
      throw err;
    }
    return session;
  }

  drop(session: number): void {
    this.models.delete(session);
    for (const lane of this.lanes) {
      if (!lane.has.delete(session)) continue;
      lane.worker.postMessage({ type: 'pool-drop', session } satisfies ToPoolWorker);
    }
  }

  run(
    session: number,
    feeds: Record<string, TensorData>,
    outputs?: readonly string[],
  ): Promise<Record<string, TensorData>> {
    return new Promise((resolve, reject) => {
      if (this.lanes.length === 0 && this.starting === 0) return reject(new PoolEmptyError());
      this.queue.push({ id: this.nextId++, session, feeds, outputs, tries: 0, resolve, reject });
      this.pump();
    });
  }

  /** Cancel: every busy Worker is terminated now, every waiting and running run rejects; fresh Workers replace them. */
  abort(): void {
    const stopped: Task[] = [];
    for (const lane of [...this.lanes]) {
      if (!lane.busy) continue;
      stopped.push(lane.busy);
      this.remove(lane);
    }
    stopped.push(...this.queue.splice(0));
    for (const t of stopped) t.reject(new AbortError());
    void this.replenish();
  }

  dispose(): void {
    this.disposed = true;
    for (const lane of [...this.lanes]) this.remove(lane);
    for (const t of this.queue.splice(0)) t.reject(new AbortError());
    this.models.clear();
  }

  /** Starts Workers up to the target (each loads a model at its first run of it). */
  private async replenish(): Promise<void> {
    const missing = this.target - this.lanes.length - this.starting;
    const starts: Promise<void>[] = [];
    for (let i = 0; i < missing; i++) starts.push(this.startOne());
    await Promise.all(starts);
  }

  private async startOne(): Promise<void> {
    this.starting++;
    let w: Worker | undefined;
    try {
      w = createWorker(this.options.start);
      const answered = firstAnswer(w, this.options.answerMs ?? WORKER_ANSWER_MS);
      w.postMessage({ type: 'pool-init', wasm: this.options.wasm } satisfies ToPoolWorker);
      await answered;
    } catch {
      // Not started (refused, or no answer): the pool is smaller by one.
      w?.terminate();
      this.starting--;
      if (!this.disposed && this.starting === 0 && this.lanes.length === 0) this.failQueue();
      return;
    }
    this.starting--;
    if (this.disposed) return w.terminate();
    const lane: Lane = { worker: w, has: new Set(), loads: new Map() };
    w.addEventListener('message', (e: MessageEvent) => this.answer(lane, e.data as FromPoolWorker));
    w.addEventListener('error', (e: Event) => {
      e.preventDefault();
      this.lose(lane);
    });
    this.lanes.push(lane);
    this.pump();
  }

  private loadOn(lane: Lane, session: number, bytes: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      lane.loads.set(session, { resolve, reject });
      this.send(lane, session, bytes);
    });
  }

  /** Sends a load (messages reach a Worker in order, so a run sent after it waits for it there). */
  private send(lane: Lane, session: number, bytes: Uint8Array): void {
    lane.has.add(session);
    lane.worker.postMessage({ type: 'pool-load', session, bytes } satisfies ToPoolWorker);
  }

  private answer(lane: Lane, m: FromPoolWorker): void {
    if (m.type === 'pool-loaded') {
      const waiter = lane.loads.get(m.session);
      lane.loads.delete(m.session);
      if (m.error) {
        // A failed load fails the runs sent with it (with its error); the next run of it loads it again.
        lane.has.delete(m.session);
        waiter?.reject(errorFromCode(m.error.code, m.error.message));
      } else waiter?.resolve();
      return;
    }
    if (m.type !== 'pool-done' && m.type !== 'pool-failed') return;
    const task = lane.busy;
    if (!task || task.id !== m.id) return;
    lane.busy = undefined;
    if (m.type === 'pool-done') task.resolve(m.outputs);
    else task.reject(errorFromCode(m.error.code, m.error.message));
    this.pump();
  }

  /** A Worker that stopped (its script threw, or the browser ended it): its run goes to another Worker once. */
  private lose(lane: Lane): void {
    if (!this.lanes.includes(lane)) return;
    const task = lane.busy;
    this.remove(lane);
    this.target = Math.max(0, this.target - 1);
    for (const l of lane.loads.values()) l.reject(poolLostError());
    if (task) {
      task.tries++;
      // A run that ended two Workers fails the job; one whose Worker was the last goes to the engine's thread.
      if (task.tries >= 2) task.reject(poolLostError());
      else if (this.lanes.length === 0 && this.starting === 0) task.reject(new PoolEmptyError());
      else this.queue.unshift(task);
    }
    if (this.lanes.length === 0 && this.starting === 0) this.failQueue();
    else this.pump();
  }

  private remove(lane: Lane): void {
    const i = this.lanes.indexOf(lane);
    if (i >= 0) this.lanes.splice(i, 1);
    lane.busy = undefined;
    lane.worker.terminate();
  }

  private failQueue(): void {
    for (const t of this.queue.splice(0)) t.reject(new PoolEmptyError());
  }

  private pump(): void {
    for (const lane of this.lanes) {
      if (lane.busy) continue;
      const task = this.queue.shift();
      if (!task) return;
      const bytes = this.models.get(task.session);
      if (bytes && !lane.has.has(task.session)) this.send(lane, task.session, bytes);
      lane.busy = task;
      // Inputs are copied (structured clone): a caller may still read them (TTA, strips).
      lane.worker.postMessage({
        type: 'pool-run',
        id: task.id,
        session: task.session,
        feeds: task.feeds,
        ...(task.outputs ? { outputs: task.outputs } : {}),
      } satisfies ToPoolWorker);
    }
  }
}

/**
 * `base`'s runners, except that a session whose first backend is WASM runs on the pool's Workers (while the pool
 * has any; GPU sessions stay on the engine's thread with their context). A model is loaded into the Workers at
 * its first run, and onto the engine's thread only if the Workers are all lost.
 *
 * Tried and measured, not kept: engaging the pool only from the first pass with several tiles (single-tile jobs,
 * detectors and previews on the engine's thread), which would spare N runtime compiles for small jobs. On the
 * bench (x4fast 256², 4 tiles, warm) 2 Workers then gave ×1.28 over one instead of ×1.95, for a reason not found
 * in the time left (the job's tiles did run two at a time); see the stop notes.
 */
export function poolRunnerFactory(base: RunnerFactory, pool: WorkerPool): RunnerFactory {
  return {
    name: base.name,
    async create(model: Uint8Array, options: RunnerOptions = {}): Promise<Runner> {
      const first = (options.backends ?? ['wasm']).find((b) => b !== 'node-cpu');
      if (first !== 'wasm' || pool.size === 0) return base.create(model, options);
      let here: Promise<Runner> | undefined;
      let session: Promise<number> | undefined;
      const onThisThread = (feeds: Record<string, TensorData>, outputs?: readonly string[]) => {
        here ??= base.create(model, options);
        return here.then((r) => r.run(feeds, outputs));
      };
      return {
        backend: 'wasm',
        run: (feeds, outputs) => {
          // Once every Worker was lost, runs go to a session on this thread (the job goes on there).
          if (!pool.alive) return onThisThread(feeds, outputs);
          if (!session) {
            // A load that fails is tried again at the next run (a failed run keeps the loaded session).
            const load = pool.load(model);
            session = load;
            load.catch(() => {
              if (session === load) session = undefined;
            });
          }
          return session
            .then((id) => pool.run(id, feeds, outputs))
            .catch((err: unknown) => {
              if (err instanceof PoolEmptyError) return onThisThread(feeds, outputs);
              throw err;
            });
        },
        parallel: (workingSet) => (pool.alive ? pool.parallel(workingSet) : 1),
        abort: () => pool.abort(),
        async dispose() {
          const s = session;
          session = undefined;
          if (s) await s.then((id) => pool.drop(id)).catch(() => undefined);
          await (await here)?.dispose();
        },
      };
    },
    dispose: () => pool.dispose(),
  };
}
