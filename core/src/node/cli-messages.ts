/**
 * The CLI's words for failures: one plain sentence for any error (ours as they are, the system's and
 * libvips' translated), the "result exists" skip, and which failures are the command line's fault (exit 2).
 */
import { describeError, EnlargeError, InvalidOptionError, UnknownModelError } from '../errors.js';
import { UsageError } from './cli-guards.js';

/** A result that exists and is kept (no --overwrite). */
export class SkipError extends Error {}

/** Exit code 2: the command line is wrong (fix the options); 1: an image could not be processed. */
export function isUsage(err: unknown): boolean {
  return err instanceof UsageError || err instanceof InvalidOptionError || err instanceof UnknownModelError;
}

/** One plain sentence for any failure: ours as they are, the system's and libvips' translated. */
export function plainMessage(err: unknown, file?: string): string {
  if (err instanceof EnlargeError) return describeError(err, 'cli').message;
  if (err instanceof UsageError || err instanceof SkipError) return err.message;
  const e = err as NodeJS.ErrnoException;
  const where = e?.path ? `"${e.path}"` : file ? `"${file}"` : 'the file';
  switch (e?.code) {
    case 'ENOSPC':
      return `The disk is full: ${where} could not be written. Free some space or choose another output folder; nothing was left behind.`;
    case 'EFBIG':
      return `${where} is too large for this disk's file system (FAT32 stops at 4 GB). Write it to another disk; nothing was left behind.`;
    case 'EDQUOT':
      return `The disk quota is used up: ${where} could not be written. Nothing was left behind.`;
    case 'EACCES':
    case 'EPERM':
      return `Permission denied: ${where} cannot be ${e.syscall === 'open' && /\.tmp$/.test(e.path ?? '') ? 'written (choose an output folder you can write to)' : 'accessed'}.`;
    case 'EROFS':
      return `${where} is on a read-only disk. Choose another output folder.`;
    case 'ENOENT':
      return `${where} does not exist.`;
    case 'EISDIR':
      return `${where} is a folder, not a file.`;
    case 'ENOTDIR':
      return `A part of ${where} is a file, not a folder.`;
    case 'EMFILE':
      return 'Too many files are open. Try again with fewer inputs at once.';
  }
  const first = String((err as Error)?.message ?? err)
    .split('\n')[0]!
    .trim();
  return `unexpected error: ${first || 'unknown'} (set ENLARGE_DEBUG=1 for details)`;
}
