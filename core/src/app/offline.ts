/** The web page offline: the service worker (./sw.ts) keeps the page and, once the engine runs, every model. */
import { $, query } from './dom.js';

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator) || query.has('nosw')) return;
  navigator.serviceWorker.register('sw.js').catch(() => {
    $('offline').textContent = 'This browser cannot keep the page for offline use.';
  });
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const m = e.data as { type?: string; done?: number; total?: number };
    if (m?.type !== 'models-cached') return;
    $('offline').textContent =
      m.done === m.total ? 'Ready to work offline.' : `Kept for offline use: ${m.done} of ${m.total} model files.`;
    document.body.dataset['offline'] = m.done === m.total ? 'true' : 'partial';
  });
}

/** Once the engine runs, the service worker keeps every model of the page for offline use (in the background). */
export function cacheModelsForOffline(): void {
  if (!('serviceWorker' in navigator) || query.has('nosw')) return;
  void navigator.serviceWorker.ready.then((reg) => reg.active?.postMessage({ type: 'cache-models' }));
}
