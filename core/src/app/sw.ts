/**
 * The web page's service worker (core/dist/web/sw.js): it makes the page work offline after the first visit.
 *
 * - Install: the page, its scripts, the runtime (.mjs + .wasm) and the model list are fetched and each is
 *   checked against the sha256 the build wrote into this file (`ENLARGE_PRECACHE`) before it is cached; one
 *   mismatch fails the install (the previous version, if any, stays in charge).
 * - Models: every model file is cached the first time the engine asks for it, after its bytes match the
 *   sha256 in the build's list (the engine checks them again when it loads them). `{type: 'cache-models'}`
 *   from the page caches the rest in the background.
 * - Requests: same-origin GETs only, cache first; nothing else is touched. The cached responses keep the
 *   server's COOP/COEP headers, so the page stays cross-origin isolated (WASM threads) offline too.
 */
interface Entry {
  path: string;
  sha256: string;
}
declare const ENLARGE_PRECACHE: Entry[];
declare const ENLARGE_MODELS: Entry[];
declare const ENLARGE_VERSION: string;

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Promise<Response> | Response): void;
}
interface ExtendableMessageEvent extends ExtendableEvent {
  data: unknown;
  source: { postMessage(m: unknown): void } | null;
}
const sw = self as unknown as {
  location: Location;
  registration: { scope: string };
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEvent) => void): void;
  addEventListener(type: 'message', fn: (e: ExtendableMessageEvent) => void): void;
};

const CACHE = `enlarge-${ENLARGE_VERSION}`;
const scope = new URL(sw.registration.scope);
const abs = (path: string) => new URL(path, scope).href;
const expected = new Map<string, string>(
  [...ENLARGE_PRECACHE, ...ENLARGE_MODELS].map((e) => [abs(e.path), e.sha256] as const),
);
const models = new Set(ENLARGE_MODELS.map((e) => abs(e.path)));

async function sha256(bytes: ArrayBuffer): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...d].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Fetches `url`, checks its sha256 and caches it; throws when it does not match. */
async function fetchVerified(cache: Cache, url: string): Promise<Response> {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const want = expected.get(url);
  if (want) {
    const got = await sha256(await res.clone().arrayBuffer());
    if (got !== want)
      throw new Error(`${url} does not match its sha256 (${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…)`);
  }
  await cache.put(url, res.clone());
  return res;
}

sw.addEventListener('install', (e) => {
  e.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      for (const entry of ENLARGE_PRECACHE) await fetchVerified(cache, abs(entry.path));
      await sw.skipWaiting();
    })(),
  );
});

sw.addEventListener('activate', (e) => {
  e.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key.startsWith('enlarge-') && key !== CACHE) await caches.delete(key);
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== scope.origin) return;
  // The page itself, with or without its query: the cached index.html.
  const key =
    url.pathname === scope.pathname || url.pathname === `${scope.pathname}index.html`
      ? abs('index.html')
      : url.origin + url.pathname;
  if (!expected.has(key)) return;
  e.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      const hit = await cache.match(key);
      if (hit) return hit;
      // A model that fails its check is passed on uncached: the engine then says which file and why.
      if (models.has(key)) return fetchVerified(cache, key).catch(() => fetch(req));
      return fetch(req);
    })(),
  );
});

sw.addEventListener('message', (e) => {
  const data = e.data as { type?: string } | null;
  if (data?.type !== 'cache-models') return;
  e.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      let done = 0;
      for (const entry of ENLARGE_MODELS) {
        const url = abs(entry.path);
        if (!(await cache.match(url))) await fetchVerified(cache, url).catch(() => undefined);
        if (await cache.match(url)) done++;
      }
      e.source?.postMessage({ type: 'models-cached', done, total: ENLARGE_MODELS.length });
    })(),
  );
});
