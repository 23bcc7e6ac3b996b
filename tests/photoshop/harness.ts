/**
 * What the Photoshop tests share: the built plugin folder (photoshop-plugin/dist) served over http from a host
 * name that is not loopback, in headless Chromium, and a snapshot of everything the plugin could change in a
 * simulated document (for "unchanged" comparisons).
 *
 * http://enlarge-plugin.test is NOT a secure context (http://127.0.0.1 would be), so, as on a `plugin:` page whose
 * security UXP does not document (audit F4), there is no crypto.subtle and no navigator.gpu: the engine must
 * verify models with its JS digest.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import type { SimDocument } from '../../photoshop-plugin/sim/photoshop.js';
import { TYPES } from '../../scripts/src/engine-server.js';
import { CHROMIUM_ARGS, ROOT } from '../helpers.js';

export const DIST = join(ROOT, 'photoshop-plugin', 'dist');
export const HOST = 'enlarge-plugin.test';

export interface PluginServer {
  /** http://enlarge-plugin.test:PORT — the plugin folder's root. */
  base: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the plugin folder (no .ccx), serves it with the right MIME types and starts Chromium that resolves HOST. */
export async function servePluginDist(): Promise<PluginServer> {
  const { build } = await import('../../photoshop-plugin/build.mjs' as string);
  await build({ ccx: false, quiet: true });
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(
      /^(\.\.[/\\])+/,
      '',
    );
    try {
      const body = await readFile(join(DIST, path));
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
  });
  return {
    base: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    browser,
    close: async () => {
      await browser.close();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Everything the plugin could change in a document: size, history, layers (pixels, masks, clipping), selection. */
export function docState(doc: SimDocument) {
  return {
    size: [doc.width, doc.height, doc.resolution],
    history: [...doc.history],
    layers: doc.layers.map((l) => ({
      id: l.id,
      name: l.name,
      blend: l.blendMode,
      opacity: l.opacity,
      rect: l.raster?.rect,
      hash: l.raster ? createHash('sha1').update(l.raster.data).digest('hex') : null,
      clipped: l.isClippingMask,
      fill: l.fillOpacity,
      mask: l.userMask ? createHash('sha1').update(l.userMask.data).digest('hex') : null,
      maskEnabled: l.userMaskEnabled,
    })),
    active: [...doc.activeIds],
  };
}
