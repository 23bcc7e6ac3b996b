/** The web page's engine: a Worker serving the engine protocol (./worker.ts), restarted after Cancel. */
import type { Backend } from '../runtime/runner.js';
import { EngineClient, type EngineTransport } from '../page/client.js';
import { transferList } from '../page/protocol.js';
import type { WorkerBoot } from './shared.js';
import { query } from './dom.js';
import { state } from './state.js';

export interface Host {
  worker: Worker;
  client: EngineClient;
  ready: Promise<Backend[]>;
}
let host: Host | undefined;

function startEngine(): Host {
  const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  const listeners = new Set<(m: unknown) => void>();
  worker.addEventListener('message', (e) => listeners.forEach((fn) => fn(e.data)));
  worker.addEventListener('error', (e) => {
    e.preventDefault();
    const message = `The engine could not start (${e.message || 'its Worker stopped'}). Reload the page and try again.`;
    listeners.forEach((fn) => fn({ type: 'ready', backends: [], error: { code: 'RUNTIME_FAILED', message } }));
  });
  const transport: EngineTransport = {
    post: (m) => worker.postMessage(m, transferList(m)),
    subscribe: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
  const client = new EngineClient(transport, { catalog: state.catalog, cancelGraceMs: 1_000 });
  const forced = query.get('backend');
  const threads = Number(query.get('threads'));
  const workers = query.get('workers') === null ? NaN : Number(query.get('workers'));
  const boot: WorkerBoot = {
    type: 'boot',
    ...(forced ? { backends: forced.split(',') as Backend[] } : {}),
    ...(Number.isInteger(threads) && threads > 0 ? { threads } : {}),
    ...(Number.isInteger(workers) && workers >= 0 ? { workers } : {}),
  };
  worker.postMessage(boot);
  return { worker, client, ready: client.ready(120_000) };
}

export function engine(): Host {
  host ??= startEngine();
  return host;
}

/** Cancel: the Worker is ended mid-tile (at once); a fresh one starts for the next run. */
export function stopEngine(): void {
  if (!host) return;
  host.worker.terminate();
  void host.client.dispose();
  host = undefined;
}
