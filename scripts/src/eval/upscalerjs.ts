/**
 * UpscalerJS baseline in Node without network and without @tensorflow/tfjs-node (which downloads a native
 * binary at install time): `upscaler` (its browser ESM build, fed tensors only) on `@tensorflow/tfjs` with
 * the WASM backend (XNNPACK, SIMD), falling back to the pure-JS CPU backend. The model files are read from
 * the npm package on disk and handed to tfjs through `tf.io.fromMemory`, behind a custom URL scheme that
 * `tf.io.registerLoadRouter` resolves, so UpscalerJS's own loading code runs unchanged.
 *
 *   const u = await createUpscalerJs();           // esrgan-medium 4×
 *   const big = await u.upscale(rgb);             // 8-bit RGB in, 8-bit RGB out
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { Rgb } from './images.js';

const require = createRequire(import.meta.url);

/** Root folder of an installed package (works for packages whose "exports" hide package.json). */
export function packageRoot(name: string): string {
  let d = dirname(require.resolve(name));
  const tail = sep + name.split('/').join(sep);
  while (!d.endsWith(tail)) {
    const up = dirname(d);
    if (up === d) throw new Error(`cannot find the folder of package ${name}`);
    d = up;
  }
  return d;
}

export interface UpscalerJs {
  /** e.g. "@upscalerjs/esrgan-medium@1.0.0 x4 (tfjs 4.11.0, wasm)" */
  readonly label: string;
  readonly backend: string;
  upscale(img: Rgb): Promise<Rgb>;
  dispose(): Promise<void>;
}

export interface UpscalerJsOptions {
  /** Model package (default @upscalerjs/esrgan-medium). */
  modelPackage?: string;
  scale?: 2 | 3 | 4 | 8;
  /** 'wasm' (default) or 'cpu'. */
  backend?: 'wasm' | 'cpu';
  /** UpscalerJS patch size in input pixels (default: whole image up to 256², else 128 with 8 px padding). */
  patchSize?: number;
}

let routerInstalled = false;
const memoryModels = new Map<string, unknown>();

export async function createUpscalerJs(opts: UpscalerJsOptions = {}): Promise<UpscalerJs> {
  const modelPackage = opts.modelPackage ?? '@upscalerjs/esrgan-medium';
  const scale = opts.scale ?? 4;
  const tf = await import('@tensorflow/tfjs');
  let backend: string = opts.backend ?? 'wasm';
  if (backend === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(join(packageRoot('@tensorflow/tfjs-backend-wasm'), 'dist') + sep);
    // The emscripten module installs process handlers that rethrow; keep Node's own behaviour.
    const before = { u: process.listeners('uncaughtException'), r: process.listeners('unhandledRejection') };
    try {
      if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend refused');
    } catch {
      backend = 'cpu';
    }
    for (const l of process.listeners('uncaughtException'))
      if (!before.u.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of process.listeners('unhandledRejection'))
      if (!before.r.includes(l)) process.removeListener('unhandledRejection', l);
  }
  if (backend === 'cpu') await tf.setBackend('cpu');
  await tf.ready();
  backend = tf.getBackend();

  // Model definition from the package, model files from the package folder.
  const root = packageRoot(modelPackage);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const defModule = (await import(`${modelPackage}/${scale}x`)) as {
    default: Record<string, unknown> & { _internals?: { path?: string } };
  };
  const definition = defModule.default;
  const rel = definition._internals?.path ?? `models/x${scale}/model.json`;
  const modelJsonPath = join(root, rel);
  const modelJson = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as {
    modelTopology: object;
    format?: string;
    weightsManifest: { paths: string[]; weights: unknown[] }[];
  };
  const chunks: Buffer[] = [];
  const specs: unknown[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const p of group.paths) chunks.push(readFileSync(join(dirname(modelJsonPath), p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(chunks);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
  const url = `enlarge-local://${modelPackage}@${pkg.version}/${rel}`;
  memoryModels.set(
    url,
    tf.io.fromMemory({
      modelTopology: modelJson.modelTopology,
      format: modelJson.format,
      weightSpecs: specs as never,
      weightData,
    }),
  );
  if (!routerInstalled) {
    tf.io.registerLoadRouter(((u: string | string[]) =>
      typeof u === 'string' ? (memoryModels.get(u) ?? null) : null) as never);
    routerInstalled = true;
  }

  const { default: Upscaler } = (await import('upscaler')) as unknown as {
    default: new (o: { model: unknown }) => {
      execute(
        input: unknown,
        o: { output: 'tensor'; patchSize?: number; padding?: number },
      ): Promise<{ shape: number[]; data(): Promise<Float32Array>; dispose(): void }>;
      dispose(): Promise<void>;
    };
  };
  const upscaler = new Upscaler({ model: { ...definition, path: url } });

  return {
    label: `${modelPackage}@${pkg.version} x${scale} (upscaler 1.0.0, tfjs ${tf.version.tfjs}, ${backend})`,
    backend,
    async upscale(img: Rgb): Promise<Rgb> {
      const n = img.width * img.height * 3;
      const f = new Float32Array(n);
      // UpscalerJS takes 0..255 tensors and maps them to and from the model's input/output ranges itself.
      for (let i = 0; i < n; i++) f[i] = img.data[i]!;
      const input = tf.tensor3d(f, [img.height, img.width, 3], 'float32');
      const big = Math.max(img.width, img.height) > 256;
      const patchSize = opts.patchSize ?? (big ? 128 : undefined);
      const out = await upscaler.execute(
        input,
        patchSize ? { output: 'tensor', patchSize, padding: 8 } : { output: 'tensor' },
      );
      input.dispose();
      const [h, w] = out.shape as [number, number, number];
      const data = await out.data();
      out.dispose();
      const u8 = new Uint8Array(w * h * 3);
      for (let i = 0; i < u8.length; i++) {
        const v = Math.round(data[i]!);
        u8[i] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
      return { width: w, height: h, channels: 3, data: u8 };
    },
    async dispose() {
      await upscaler.dispose();
      memoryModels.delete(url);
    },
  };
}
