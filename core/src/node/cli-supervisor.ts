/**
 * onnxruntime-node runs a model synchronously on the main thread, so while one large tile computes (x4plus on a
 * 512² tile: half a minute on a laptop) the CLI's own event loop cannot answer SIGINT or SIGTERM. So the command
 * is two processes: this small supervisor, whose loop is always free, and the worker that does the job (the same
 * bundle, started with ENLARGE_CLI_WORKER=1). A signal reaches the worker at once (forwarded, or from the
 * terminal's process group), which stops between tiles, bands and files and leaves nothing. If it has not ended
 * after GRACE_MS, the supervisor kills it, removes the temporary files it announced, prints the one closing line
 * and exits 130 (SIGINT) or 143 (SIGTERM): the command ends within 2 s whatever the worker waits on.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const WORKER_ENV = 'ENLARGE_CLI_WORKER';
export const GRACE_MS = 1500;

type WorkerNote = { temp: string } | { done: number };

/** In the worker: announce a temporary file (removed by the supervisor if it has to kill the worker). */
export function announceTemp(file: string): void {
  if (process.env[WORKER_ENV] === '1') process.send?.({ temp: file } satisfies WorkerNote);
}

/** In the worker: how many images are done (for the supervisor's closing line). */
export function announceDone(done: number): void {
  if (process.env[WORKER_ENV] === '1') process.send?.({ done } satisfies WorkerNote);
}

export function isWorker(): boolean {
  return process.env[WORKER_ENV] === '1';
}

/**
 * glibc's allocator for the worker: blocks from 1 MB up are mapped and handed back to the system when freed.
 * By default glibc raises that threshold to the size of each block freed (up to 32 MB), so the tensors of models
 * run without onnxruntime's arena (Real-CUGAN, region crops) stay in the heap after use: the default portrait
 * job (x4plus + a Real-CUGAN face region) peaked at 572–607 MB with it, 550 MB with this, for ~1 s more system
 * time in 16 s. Other C libraries ignore it; a user's own setting wins.
 */
const WORKER_MALLOC = { MALLOC_MMAP_THRESHOLD_: String(2 ** 20) };

/**
 * Starts the worker on `entry` (this bundle) with the same arguments and exits with its code. The worker may
 * collect garbage between tiles (--expose-gc, ./gc.ts).
 */
export function supervise(argv: string[], entry = fileURLToPath(import.meta.url)): void {
  const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', entry, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...WORKER_MALLOC, ...process.env, [WORKER_ENV]: '1' },
  });
  const temps = new Set<string>();
  let done = 0;
  let stopping: NodeJS.Signals | undefined;
  child.on('message', (m: WorkerNote) => {
    if ('temp' in m) temps.add(m.temp);
    else if ('done' in m) done = m.done;
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (!child.killed && child.exitCode === null) child.kill(sig);
    if (stopping) return;
    stopping = sig;
    (setTimeout(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      for (const t of temps) rmSync(t, { force: true });
      console.error(`enlarge: cancelled (${sig}); ${done} done, the image in progress was not written.`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }, GRACE_MS) as unknown as { unref(): void }).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  child.on('error', (err) => {
    console.error(`enlarge: could not start (${err.message}).`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (stopping && signal === 'SIGKILL') return; // the timer above ends the process
    for (const t of temps) rmSync(t, { force: true });
    process.exit(code ?? (signal === 'SIGINT' ? 130 : signal === 'SIGTERM' ? 143 : 1));
  });
}
