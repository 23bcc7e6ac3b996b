/**
 * SHA-256 for hosts without WebCrypto. core's `readVerified` checks every model file with
 * `crypto.subtle.digest('SHA-256', …)`; UXP does not promise `crypto.subtle`, so the plugin installs
 * a pure-JS digest (@noble/hashes) there when it is missing, and only then.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 of `data` (@noble/hashes: audited, dependency-free, runs wherever plain JS does). */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/** Gives `globalThis.crypto.subtle.digest('SHA-256', …)` to hosts that lack it. Returns true if it installed it. */
export function ensureSha256Digest(): boolean {
  const g = globalThis as { crypto?: { subtle?: { digest?: unknown } } };
  if (typeof g.crypto?.subtle?.digest === 'function') return false;
  const digest = async (algorithm: unknown, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer> => {
    const name = typeof algorithm === 'string' ? algorithm : (algorithm as { name?: string })?.name;
    if (String(name).toUpperCase() !== 'SHA-256') throw new Error(`Only SHA-256 is available here (asked for ${String(name)}).`);
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return sha256(bytes).slice().buffer as ArrayBuffer;
  };
  const subtle = { digest };
  if (g.crypto) {
    try {
      Object.defineProperty(g.crypto, 'subtle', { value: subtle, configurable: true });
    } catch {
      Object.defineProperty(globalThis, 'crypto', { value: { ...g.crypto, subtle }, configurable: true });
    }
  } else {
    Object.defineProperty(globalThis, 'crypto', { value: { subtle }, configurable: true, writable: true });
  }
  return true;
}
