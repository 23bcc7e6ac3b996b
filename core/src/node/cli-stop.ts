/**
 * Ctrl-C and SIGTERM in the CLI's worker: the first one cancels the job (the engine stops at its next check and
 * the image in progress is not written); a second one, later, ends the process at once, still removing the
 * temporary files of the image in progress. (The supervisor's stop within two seconds is ./cli-supervisor.ts.)
 */
import { rmSync } from 'node:fs';
import { AbortError } from '../errors.js';

export class Stop {
  readonly controller = new AbortController();
  /** The signal that cancelled the command, once one came. */
  signalled: NodeJS.Signals | undefined;
  private signalledAt = 0;
  /** The temporary result and detail-map files of the image in progress. */
  tmp: string | undefined;
  mapTmp: string | undefined;

  private readonly onSignal = (sig: NodeJS.Signals) => {
    // The same signal twice at once (the terminal's and the supervisor's copy of one Ctrl-C) is one.
    if (this.signalled && Date.now() - this.signalledAt > 300) {
      // A second Ctrl-C: stop now, still leaving nothing behind.
      if (this.tmp) rmSync(this.tmp, { force: true });
      if (this.mapTmp) rmSync(this.mapTmp, { force: true });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    if (this.signalled) return;
    this.signalled = sig;
    this.signalledAt = Date.now();
    this.controller.abort();
  };

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  listen(): void {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  unlisten(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  throwIfSignalled(): void {
    if (this.signal.aborted) throw new AbortError();
  }
}
