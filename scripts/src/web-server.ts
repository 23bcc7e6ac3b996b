/**
 * Serves the web page (core/dist/web/, built by core/build-web.mjs) on 127.0.0.1 with the headers that make it
 * cross-origin isolated (COOP/COEP: SharedArrayBuffer, so WASM runs multi-threaded). `npm run web` builds the
 * page and runs this; the tests start it on a random port with `serveWeb()`.
 *
 *   npx tsx scripts/src/web-server.ts [--port 8080] [--host 127.0.0.1] [--no-isolate]
 *
 * Any static host serves the folder as well; without these two headers the page runs WASM on one thread.
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
export const WEB_DIST = join(ROOT, 'core', 'dist', 'web');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.png': 'image/png',
};

export interface WebServer {
  url: string;
  /** Every path asked for, in order (tests). */
  readonly requests: string[];
  /** When false, every request fails as if the machine were offline (the connection is dropped). */
  online: boolean;
  close(): Promise<void>;
}

export async function serveWeb(
  options: { port?: number; host?: string; isolate?: boolean; root?: string } = {},
): Promise<WebServer> {
  const root = options.root ?? WEB_DIST;
  const isolate = options.isolate ?? true;
  const state = { online: true, requests: [] as string[] };
  const server: Server = createServer(async (req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    state.requests.push(path);
    if (!state.online) {
      req.socket.destroy();
      return;
    }
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    if (!file.startsWith(root + sep) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 403 : 405).end();
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Resource-Policy': 'same-origin',
    };
    if (isolate) {
      headers['Cross-Origin-Opener-Policy'] = 'same-origin';
      headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
    }
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const body = await readFile(file);
      res
        .writeHead(200, { ...headers, 'Content-Length': String(body.length) })
        .end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', ok);
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}/`,
    requests: state.requests,
    get online() {
      return state.online;
    },
    set online(v: boolean) {
      state.online = v;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  try {
    await stat(join(WEB_DIST, 'index.html'));
  } catch {
    console.error('enlarge: core/dist/web/ is not built yet. Run "npm run build:web" (or "npm install") first.');
    process.exit(1);
  }
  const port = Number(arg('--port') ?? process.env['PORT'] ?? 8080);
  try {
    const s = await serveWeb({ port, host: arg('--host') ?? '127.0.0.1', isolate: !args.includes('--no-isolate') });
    console.log(`Enlarge on the web: ${s.url}  (core/dist/web/, cross-origin isolated; Ctrl-C to stop)`);
  } catch (err) {
    console.error(
      `enlarge: could not listen on port ${port} (${(err as Error).message}). Choose another with --port or PORT=…`,
    );
    process.exit(1);
  }
}
