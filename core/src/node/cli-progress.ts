/**
 * The CLI's progress: a bar on a terminal, a line every 10 % in logs, and the batch's ETA from the output
 * megapixels done so far.
 */
import { formatDuration, type UpscaleProgress } from '../upscale/index.js';

export interface Batch {
  total: number;
  index: number;
  startedAt: number;
  /** Output megapixels finished and their time, for the batch ETA. */
  doneMP: number;
  doneMs: number;
  remainingMP: number;
}

function batchEta(b: Batch, currentMP: number, currentFraction: number): number | undefined {
  const elapsedMs = Date.now() - b.startedAt;
  const doneMP = b.doneMP + currentMP * currentFraction;
  if (doneMP <= 0 || elapsedMs < 500) return undefined;
  const rest = b.remainingMP - currentMP * currentFraction;
  return (rest * elapsedMs) / doneMP;
}

export function progressBar(label: string, batch: Batch, outMP: number): (p: UpscaleProgress) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  let lastLogged = -1;
  return (p) => {
    const t = Date.now();
    const eta = p.etaMs !== undefined ? ` ETA ${formatDuration(p.etaMs)}` : '';
    const be = batch.total > 1 ? batchEta(batch, outMP, p.fraction) : undefined;
    const batchPart =
      batch.total > 1
        ? ` · image ${batch.index}/${batch.total}${be !== undefined ? `, batch ETA ${formatDuration(be)}` : ''}`
        : '';
    if (!tty) {
      // Logs (a cluster job, a pipe): a line every 10 %, only for jobs long enough to want one.
      const decile = Math.floor(p.fraction * 10);
      if (p.elapsedMs > 10_000 && decile > lastLogged && decile < 10 && p.phase !== 'done') {
        lastLogged = decile;
        process.stderr.write(`${label}: ${Math.round(p.fraction * 100)}%${eta}${batchPart}\n`);
      }
      return;
    }
    if (t - last < 100 && p.phase !== 'done') return;
    last = t;
    const width = 24;
    const filled = Math.round(p.fraction * width);
    const what = p.phase === 'upscale' ? `pass ${p.pass}/${p.passes} tile ${p.tilesDone}/${p.tilesTotal}` : p.phase;
    process.stderr.write(
      `\r${label} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${Math.round(p.fraction * 100)}% ${what}${eta}${batchPart}\x1b[K`,
    );
    if (p.phase === 'done') process.stderr.write('\r\x1b[K');
  };
}
