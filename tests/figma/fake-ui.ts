/**
 * A stand-in for the plugin's UI iframe, in Node, for the sandbox tests: it answers the sandbox's
 * messages as the real ui.html does (same protocol), with a synthetic result of the requested size
 * encoded by the plugin's own tile code, or with a failure, or not at all (to interleave events).
 */
import { encode } from 'fast-png';
import type { PixelImage } from '../../core/src/image.js';
import {
  DEFAULT_SETTINGS,
  type JobImage,
  type SandboxToUi,
  type Settings,
  type UiToSandbox,
} from '../../figma-plugin/src/shared.js';
import { resultCells } from '../../figma-plugin/src/cells.js';
import type { FigmaStub } from '../../figma-plugin/test/figma-stub.js';

type ImageMsg = Extract<SandboxToUi, { type: 'image' }>;

/** A smooth, deterministic RGB test picture. */
export function testPicture(width: number, height: number, seed = 1): PixelImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = ((x * 255) / Math.max(1, width - 1)) | 0;
      data[i + 1] = ((y * 255) / Math.max(1, height - 1)) | 0;
      data[i + 2] = ((x + y) * seed) & 255;
    }
  }
  return { width, height, channels: 3, bitDepth: 8, data };
}

export function pngBytes(img: PixelImage): Uint8Array {
  return encode({ width: img.width, height: img.height, data: img.data, channels: img.channels, depth: img.bitDepth });
}

export class FakeUi {
  readonly received: SandboxToUi[] = [];
  /** What to do with each image: answer with a result (default), fail, or hold it for the test. */
  behaviour: (msg: ImageMsg) => 'result' | { fail: string } | 'hold' = () => 'result';
  held: ImageMsg[] = [];
  private waiters: (() => void)[] = [];

  constructor(private readonly stub: FigmaStub) {
    stub.onUiMessage = (m) => this.onMessage(m as SandboxToUi);
  }

  send(msg: UiToSandbox): void {
    this.stub.fromUi(msg);
  }

  private onMessage(m: SandboxToUi): void {
    this.received.push(m);
    for (const w of this.waiters.splice(0)) w();
    if (m.type === 'image') {
      const b = this.behaviour(m);
      if (b === 'hold') this.held.push(m);
      else if (b === 'result') this.answer(m);
      else this.send({ type: 'image-failed', runId: m.runId, index: m.index, message: b.fail });
    }
  }

  /** Answers an image with a synthetic result at the requested output size. */
  answer(m: ImageMsg, max?: number): void {
    const { outWidth, outHeight } = m.image;
    const cells = resultCells(testPicture(outWidth, outHeight, 3), max);
    this.send({ type: 'result', runId: m.runId, index: m.index, width: outWidth, height: outHeight, cells });
  }

  async waitFor<T extends SandboxToUi['type']>(type: T, timeoutMs = 5000): Promise<Extract<SandboxToUi, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((m) => m.type === type);
      if (found) return found as Extract<SandboxToUi, { type: T }>;
      if (Date.now() > deadline)
        throw new Error(`No "${type}" from the sandbox; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, 50);
        this.waiters.push(() => (clearTimeout(t), ok()));
      });
    }
  }

  /** Starts a run and waits for its end (run-done or run-failed). */
  async run(
    settings: Partial<Settings>,
    timeoutMs = 5000,
  ): Promise<Extract<SandboxToUi, { type: 'run-done' | 'run-failed' }>> {
    this.received.length = 0;
    this.send({
      type: 'run',
      settings: { ...DEFAULT_SETTINGS, preset: 'photo', scale: '4', exportScale: 2, output: 'replace', ...settings },
    });
    return this.end(timeoutMs);
  }

  async end(timeoutMs = 5000): Promise<Extract<SandboxToUi, { type: 'run-done' | 'run-failed' }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received.find((m) => m.type === 'run-done' || m.type === 'run-failed' || m.type === 'error');
      if (found) return found as never;
      if (Date.now() > deadline)
        throw new Error(`The run did not end; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      await new Promise((ok) => setTimeout(ok, 10));
    }
  }

  images(): JobImage[] {
    return this.received.filter((m): m is ImageMsg => m.type === 'image').map((m) => m.image);
  }
}
