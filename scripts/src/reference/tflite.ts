/**
 * TFLite itself as the reference runtime of the TFLite → ONNX conversions: TFLite's WASM build with its web API
 * (TFLiteWebModelRunner, `wasm/tflite_web_api_client.js` + `tflite_web_api_cc[_simd].wasm` from the pinned
 * @tensorflow/tfjs-tflite tarball, unchanged), in headless Chromium. No tfjs-core is needed: the runner's input
 * and output tensors expose their buffers directly (`data()`).
 *
 * The files are served from http://127.0.0.1/tflite/ by page.route (nothing leaves the browser); the page is
 * not cross-origin isolated, so TFLite picks its single-threaded (SIMD) build.
 */
import { readFile } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { TFLITE_REFERENCE } from '../models/sources.js';
import { tfliteReferenceFile } from '../models/pipeline.js';

export interface TfliteOutput {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface TfliteReference {
  /** Runs a .tflite model on one float32 input (NHWC, the model's own input shape); returns every output. */
  run(model: Uint8Array, input: Float32Array): Promise<{ outputs: TfliteOutput[]; ms: number }>;
  close(): Promise<void>;
}

const PAGE_SCRIPT = String.raw`
window.__tfliteRun = async (modelB64, inputB64) => {
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const model = bytes(modelB64);
  const input = new Float32Array(bytes(inputB64).buffer);
  tfweb.tflite_web_api.setWasmPath('/tflite/');
  const t0 = performance.now();
  const runner = await tfweb.TFLiteWebModelRunner.create(model.buffer, { numThreads: 1 });
  const inputs = runner.getInputs();
  if (inputs.length !== 1) throw new Error('expected one input, got ' + inputs.length);
  const dst = inputs[0].data();
  if (dst.length !== input.length) throw new Error('input has ' + dst.length + ' values, got ' + input.length);
  dst.set(input);
  if (!runner.infer()) throw new Error('TFLite inference failed');
  const outputs = runner.getOutputs().map((o) => {
    const d = new Float32Array(o.data());
    let s = '';
    const u = new Uint8Array(d.buffer);
    for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode.apply(null, u.subarray(i, i + 0x8000));
    return { name: o.name, shape: o.shape.split(',').map(Number), data: btoa(s), type: o.dataType };
  });
  const ms = performance.now() - t0;
  runner.cleanUp();
  return { outputs, ms };
};`;

const base64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');

/** Launches Chromium and loads TFLite's web API client into a blank page at http://127.0.0.1/. */
export async function openTflite(args: readonly string[], rootDir?: string): Promise<TfliteReference> {
  const files = new Map<string, Buffer>();
  for (const entry of TFLITE_REFERENCE.files) {
    files.set(entry.split('/').pop()!, await readFile(tfliteReferenceFile(entry, rootDir)));
  }
  const browser: Browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: [...args] });
  const page: Page = await browser.newPage();
  await page.route('http://127.0.0.1/**', (r) => {
    const url = new URL(r.request().url());
    const name = url.pathname.replace(/^\/tflite\//, '');
    const body = url.pathname.startsWith('/tflite/') ? files.get(name) : undefined;
    if (body) {
      const contentType = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
      return r.fulfill({ contentType, body });
    }
    if (url.pathname === '/tflite.html')
      return r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>tflite</title>' });
    return r.fulfill({ status: 404, body: 'not found' });
  });
  await page.goto('http://127.0.0.1/tflite.html');
  await page.addScriptTag({ url: '/tflite/tflite_web_api_client.js' });
  await page.addScriptTag({ content: PAGE_SCRIPT });
  return {
    async run(model, input) {
      const r = await page.evaluate(
        ([m, x]) =>
          (
            window as unknown as {
              __tfliteRun: (
                m: string,
                x: string,
              ) => Promise<{ outputs: { name: string; shape: number[]; data: string; type: string }[]; ms: number }>;
            }
          ).__tfliteRun(m, x),
        [base64(model), base64(new Uint8Array(input.buffer, input.byteOffset, input.byteLength))] as const,
      );
      return {
        ms: r.ms,
        outputs: r.outputs.map((o) => {
          if (o.type !== 'float32') throw new Error(`TFLite output ${o.name} is ${o.type}, expected float32`);
          const b = Buffer.from(o.data, 'base64');
          return {
            name: o.name,
            shape: o.shape,
            data: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
          };
        }),
      };
    },
    close: () => browser.close(),
  };
}
