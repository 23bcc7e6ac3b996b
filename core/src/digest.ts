/**
 * The SHA-256 digest that verifies model files before they are loaded. Injected into the engine (never
 * patched onto globalThis): WebCrypto where the host gives it (secure contexts, Node), otherwise a vetted
 * pure-JS implementation (@noble/hashes) — Figma's `data:` UI iframe and UXP have no `crypto.subtle`.
 */
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** Hex SHA-256 of some bytes. */
export type Digest = (bytes: Uint8Array) => Promise<string>;

export interface NamedDigest {
  /** 'webcrypto' (crypto.subtle), 'js' (@noble/hashes) or what a host injected (e.g. 'node'). */
  name: string;
  digest: Digest;
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: Crypto }).crypto?.subtle;
}

export const jsDigest: NamedDigest = { name: 'js', digest: async (bytes) => hex(nobleSha256(bytes)) };

export function webCryptoDigest(s: SubtleCrypto): NamedDigest {
  return {
    name: 'webcrypto',
    digest: async (bytes) => hex(new Uint8Array(await s.digest('SHA-256', bytes as unknown as ArrayBuffer))),
  };
}

/** WebCrypto when this context has it, else the JS digest. */
export function defaultDigest(): NamedDigest {
  const s = subtle();
  return s && typeof s.digest === 'function' ? webCryptoDigest(s) : jsDigest;
}
