/**
 * A static server for the engine page, as a plugin host would serve it: core/dist/engine at /, and
 * models/manifest.json + models/onnx/* at /models/, on 127.0.0.1 (random port). Used by the Chromium tests
 * and the browser benchmark.
 */
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const DIST = join(ROOT, 'core', 'dist', 'engine');
const MODELS = join(ROOT, 'models');
/** Content types of the files the engine page and the plugin folders serve. */
export const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.map': 'application/json',
  '.css': 'text/css',
  '.png': 'image/png',
};

export interface EngineServer {
  url: string;
  /** Send COOP/COEP so the page is cross-origin isolated (SharedArrayBuffer → multi-threaded WASM). */
  isolate: boolean;
  /** URL path → body served instead of the file (e.g. a corrupted model). */
  overrides: Map<string, Buffer>;
  close(): Promise<void>;
}

export async function serveEngine(options: { isolate?: boolean } = {}): Promise<EngineServer> {
  const state = { isolate: options.isolate ?? false, overrides: new Map<string, Buffer>() };
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file =
      path === '/'
        ? join(DIST, 'index.html')
        : path === '/models/manifest.json'
          ? join(MODELS, 'manifest.json')
          : path.startsWith('/models/')
            ? join(MODELS, 'onnx', normalize(path.slice('/models/'.length)))
            : join(DIST, normalize(path));
    if (!file.startsWith(DIST) && !file.startsWith(MODELS)) {
      res.writeHead(403).end();
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream',
      'Cache-Control': 'no-store',
    };
    if (state.isolate)
      Object.assign(headers, {
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
      });
    try {
      const body = state.overrides.get(path) ?? (await readFile(file));
      res.writeHead(200, headers).end(body);
    } catch {
      res.writeHead(404, headers).end('not found');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    get isolate() {
      return state.isolate;
    },
    set isolate(v: boolean) {
      state.isolate = v;
    },
    overrides: state.overrides,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
