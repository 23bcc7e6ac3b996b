/**
 * A full V8 collection at the CLI's natural pauses: a phase begins, a tile is done, the next image of a batch
 * starts (at most once a second), and a model session was made (the file's bytes are garbage then). Each tile leaves float planes of its output's size behind (the model's output,
 * the faithful reference, the fidelity and map planes), and V8 frees an ArrayBuffer only when it collects its
 * wrapper, which large external buffers do not make it do soon enough: on a 256² portrait with no flags (four
 * x4plus tiles) 60–100 MiB of them stayed alive between tiles and the peak reached 592 MiB, over the 600 MB
 * budget. A collection of the CLI's small heap takes milliseconds; a tile takes from a tenth of a second up.
 * The supervisor starts the worker with --expose-gc (./cli-supervisor.ts); without it this does nothing.
 */
let last = -Infinity;

export function collectGarbage(force = false): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  const t = performance.now();
  if (!force && t - last < 1000) return;
  gc();
  last = performance.now();
}
