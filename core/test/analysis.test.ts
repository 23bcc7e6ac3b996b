import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { analyzeContent, presetFor } from '../src/analysis.js';
import { InvalidImageError } from '../src/errors.js';
import type { Channels, PixelImage } from '../src/image.js';

/** Deterministic PRNG (mulberry32) so every run sees the same pixels. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function image(
  width: number,
  height: number,
  channels: Channels,
  fill: (x: number, y: number) => number[],
): PixelImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = fill(x, y);
      for (let k = 0; k < channels; k++)
        data[(y * width + x) * channels + k] = Math.max(0, Math.min(255, Math.round(v[k]!)));
    }
  }
  return { width, height, channels, bitDepth: 8, data };
}

/** Flat-colour illustration: background, a few filled shapes, and rows of 2-px "glyph" strokes. */
function flatIllustration(width = 384, height = 288): PixelImage {
  const bg = [246, 241, 228],
    sky = [120, 180, 230],
    sun = [250, 200, 60],
    hill = [90, 160, 80],
    ink = [30, 30, 40];
  return image(width, height, 3, (x, y) => {
    // text block: glyph-like strokes in the lower part
    if (y >= 200 && y < 272 && x >= 24 && x < width - 24) {
      const line = Math.floor((y - 200) / 18),
        ly = (y - 200) % 18;
      const cell = Math.floor((x - 24) / 10),
        lx = (x - 24) % 10;
      const glyph = (cell * 7 + line * 13) % 5;
      if (ly < 12 && cell % 6 !== 5) {
        const stroke =
          (glyph !== 1 && lx < 2) || // left stem
          (glyph === 0 && ly < 2) || // top bar
          (glyph === 2 && ly >= 5 && ly < 7) || // cross bar
          (glyph === 3 && lx >= 6 && lx < 8) || // right stem
          (glyph === 1 && lx >= 3 && lx < 5) || // centre stem
          (glyph === 4 && ly >= 10); // base
        if (stroke) return ink;
      }
      return bg;
    }
    if (y >= 190) return bg;
    if ((x - 300) ** 2 + (y - 50) ** 2 < 30 ** 2) return sun;
    if (y > 130 + 30 * Math.sin(x / 40)) return hill;
    return sky;
  });
}

/** Photo-like: smooth illumination gradients, mid-frequency texture, Gaussian sensor noise (σ = 3 per channel). */
function photoLike(width = 384, height = 288, seed = 1): PixelImage {
  const rand = rng(seed);
  const noise = gaussian(rand);
  const phases = Array.from({ length: 6 }, () => rand() * 2 * Math.PI);
  return image(width, height, 3, (x, y) => {
    const light = 0.55 + 0.35 * Math.sin(x / 90 + phases[0]!) * Math.cos(y / 70 + phases[1]!);
    const texture =
      10 * Math.sin(x / 5.3 + 2 * Math.sin(y / 11) + phases[2]!) +
      7 * Math.sin((x + y) / 3.7 + phases[3]!) +
      5 * Math.sin(y / 2.9 + Math.sin(x / 7) + phases[4]!);
    // greenish-blue landscape tones (not skin-coloured, so the portrait test can add skin on top)
    return [
      90 * light + 0.6 * texture + 3 * noise(),
      170 * light + texture + 3 * noise(),
      140 * light + 0.8 * texture + 20 * Math.sin(x / 60 + phases[5]!) + 3 * noise(),
    ];
  });
}

/** Raw sharp output → PixelImage. */
function fromRaw(data: Buffer, info: { width: number; height: number; channels: number }): PixelImage {
  return {
    width: info.width,
    height: info.height,
    channels: info.channels as Channels,
    bitDepth: 8,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** What an upscaler is typically given: a bicubic downscale by `factor`, optionally saved as JPEG. */
async function degrade(img: PixelImage, factor: number, jpegQuality?: number): Promise<PixelImage> {
  let s = sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  });
  if (factor !== 1) {
    s = s.resize(Math.round(img.width / factor), Math.round(img.height / factor), { kernel: 'cubic', fit: 'fill' });
  }
  const encoded = jpegQuality ? await s.jpeg({ quality: jpegQuality }).toBuffer() : await s.png().toBuffer();
  const { data, info } = await sharp(encoded).raw().toBuffer({ resolveWithObject: true });
  return fromRaw(data, info);
}

async function fixture(path: string): Promise<PixelImage> {
  const file = fileURLToPath(new URL(`../../tests/fixtures/${path}`, import.meta.url));
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  return fromRaw(data, info);
}

describe('analyzeContent', () => {
  it('classifies a flat-colour illustration with text strokes as graphics', () => {
    const a = analyzeContent(flatIllustration());
    expect(a.kind).toBe('graphics');
    expect(a.portrait).toBe(false);
    expect(presetFor(a)).toBe('graphics');
    expect(a.confidence).toBeGreaterThan(0.8);
    expect(a.features.flat).toBeGreaterThan(0.6);
    expect(a.features.nearFlat).toBeGreaterThan(0.8);
    expect(a.features.flatPure).toBeGreaterThan(0.6); // fills with no near-shades
    expect(a.features.palette).toBeGreaterThan(0.8);
    expect(a.features.noise).toBeLessThan(0.1);
    expect(a.features.strongEdges).toBeGreaterThan(0.01);
    expect(a.features.fillScore).toBe(1);
  });

  it('classifies a noisy, textured, smoothly lit image as a photo', () => {
    const a = analyzeContent(photoLike());
    expect(a.kind).toBe('photo');
    expect(a.portrait).toBe(false);
    expect(presetFor(a)).toBe('photo');
    expect(a.confidence).toBeGreaterThan(0.8);
    expect(a.features.skin).toBeLessThan(0.05);
    expect(a.features.flat).toBeLessThan(0.02);
    expect(a.features.nearFlat).toBeLessThan(0.05);
    expect(a.features.flatPure).toBeLessThan(0.01);
    // σ = 3 per channel → σ ≈ 2 in luma; the estimator (median |Laplacian| / 4.05) should land near it
    expect(a.features.noise).toBeGreaterThan(1.2);
    expect(a.features.noise).toBeLessThan(3.5);
    expect(a.features.strongEdges).toBeLessThan(0.1);
    expect(a.features.graphicsScore).toBeLessThan(0.2);
  });

  it('does not mistake a clean, slowly graded bright sky for flat graphics', () => {
    // upper 45 %: noise-free near-white sky, a few levels of gradient quantised to 8 bits (lots of
    // exactly-equal neighbours); lower part: textured, noisy ground
    const ground = photoLike(320, 240, 4);
    const sky = image(320, 240, 3, (x, y) => {
      if (y >= 108) {
        const o = (y * 320 + x) * 3;
        return [ground.data[o]!, ground.data[o + 1]!, ground.data[o + 2]!];
      }
      const t = x / 320 + y / 240;
      return [244 + 9 * t, 249 + 5 * t, 255];
    });
    const a = analyzeContent(sky);
    expect(a.features.flat).toBeGreaterThan(0.25); // looks flat pixel by pixel...
    expect(a.features.nearFlat).toBeGreaterThan(0.4);
    expect(a.features.flatPure).toBeLessThan(0.03); // ...but every shade has near-shades around it
    expect(a.kind).toBe('photo');
  });

  it('does not mistake a sky blown out to pure white for a white background, even small and as JPEG', async () => {
    // upper 40 %: a bright sky that brightens towards the top right and clips to exactly
    // (255, 255, 255) over a large area, ringed by the ramp into white (like the photo fixture);
    // lower part: textured, noisy ground
    const ground = photoLike(480, 360, 6);
    const sky = image(480, 360, 3, (x, y) => {
      if (y >= 144) {
        const o = (y * 480 + x) * 3;
        return [ground.data[o]!, ground.data[o + 1]!, ground.data[o + 2]!];
      }
      const t = 1.2 * (x / 480) + 0.6 * (1 - y / 144); // ≥ 0.9 is clipped in every channel
      return [228 + 30 * t, 238 + 20 * t, 250 + 8 * t];
    });
    for (const [factor, q] of [
      [1, undefined],
      [1, 70],
      [4, undefined],
      [4, 70],
    ] as const) {
      const a = analyzeContent(await degrade(sky, factor, q));
      expect(a.features.flatPure, `×1/${factor} q${q}`).toBeLessThan(0.03);
      expect(a.kind, `×1/${factor} q${q}`).toBe('photo');
    }
  });

  it('classifies the real photo fixture as a photo', async () => {
    const a = analyzeContent(await fixture('photo-256.png'));
    expect(a.kind).toBe('photo');
    expect(a.portrait).toBe(false);
    expect(presetFor(a)).toBe('photo');
    expect(a.features.flatPure).toBeLessThan(0.03); // its clipped white sky is ringed by a ramp
    expect(a.features.strongEdges).toBeLessThan(0.15);
  });

  it('keeps a downscaled photo a photo: small images are allowed more pixel-scale contrast', async () => {
    // a larger rendering of the photo-like scene, then what an upscaler is given: ×4 smaller, maybe JPEG
    const big = photoLike(1024, 768, 8);
    for (const q of [undefined, 70]) {
      const small = await degrade(big, 4, q);
      const a = analyzeContent(small);
      expect(small.width).toBe(256);
      expect(a.features.halvings).toBeCloseTo(Math.log2(1024 / Math.sqrt(256 * 192)), 5);
      expect(a.features.flatPure, `q${q}`).toBeLessThan(0.01); // no fills appear
      expect(a.kind, `q${q}`).toBe('photo');
    }
    // the real photo fixture at 64×64, clean and as JPEG
    for (const q of [undefined, 70]) {
      const a = analyzeContent(await degrade(await fixture('photo-256.png'), 4, q));
      expect(a.kind, `fixture q${q}`).toBe('photo');
    }
  });

  it('raises the strong-edge thresholds for small images', () => {
    // the same pixel-scale texture (10 % of the pixels 60 levels brighter, plus noise): graphics-like
    // contrast for a 1024 px image, a photo's for a 128 px one
    const texture = (size: number) => {
      const rand = rng(size);
      const noise = gaussian(rand);
      return image(size, size, 3, () => {
        const v = (rand() < 0.1 ? 60 : 0) + 3 * noise();
        return [110 + v, 120 + v, 100 + v];
      });
    };
    const big = analyzeContent(texture(1024));
    const small = analyzeContent(texture(128));
    expect(big.features.strongEdges).toBeCloseTo(small.features.strongEdges!, 1);
    expect(big.features.strongEdges).toBeGreaterThan(0.25);
    expect(big.features.strongEdges).toBeLessThan(0.29);
    expect(big.features.halvings).toBe(0);
    expect(small.features.halvings).toBe(3);
    expect(big.kind).toBe('graphics');
    expect(small.kind).toBe('photo');
  });

  it('finds the fills of a JPEG-compressed and downscaled flat graphic', async () => {
    const art = flatIllustration(512, 384);
    for (const [factor, q] of [
      [1, 70],
      [2, 70],
      [4, undefined],
      [4, 70],
    ] as const) {
      const a = analyzeContent(await degrade(art, factor, q));
      expect(a.features.flatPure, `×1/${factor} q${q}`).toBeGreaterThan(0.3);
      expect(a.kind, `×1/${factor} q${q}`).toBe('graphics');
      expect(a.confidence, `×1/${factor} q${q}`).toBeGreaterThan(0.8);
    }
    // JPEG breaks the fills into blocks a level or two apart: few probes stay bit-identical to their
    // neighbours, but the fills survive within the ±3-level tolerance
    const jpeg = analyzeContent(await degrade(art, 4, 70));
    expect(jpeg.features.flat).toBeLessThan(jpeg.features.nearFlat!);
  });

  it('classifies the repository fixtures at upscaler input sizes', async () => {
    const cases = [
      ['eval/photo/skimage-coffee.png', 'photo'],
      ['eval/photo/skimage-chelsea.png', 'photo'],
      ['eval/face/skimage-astronaut.png', 'photo'],
      ['eval/graphics/breeze-calculator.png', 'graphics'],
      ['eval/graphics/breeze-calligrasheets.png', 'graphics'],
      ['photo-256.png', 'photo'],
    ] as const;
    for (const [file, kind] of cases) {
      const img = await fixture(file);
      for (const [factor, q] of [
        [1, undefined],
        [1, 70],
        [2, 70],
        [4, undefined],
        [4, 70],
      ] as const) {
        expect(analyzeContent(await degrade(img, factor, q)).kind, `${file} ×1/${factor} q${q}`).toBe(kind);
      }
    }
  });

  it('gives the same answer for 16-bit data', () => {
    const p8 = photoLike(256, 192, 7);
    const d16 = new Uint16Array(p8.data.length);
    for (let i = 0; i < d16.length; i++) d16[i] = p8.data[i]! * 257;
    const a8 = analyzeContent(p8);
    const a16 = analyzeContent({ ...p8, bitDepth: 16, data: d16 });
    expect(a16.kind).toBe('photo');
    expect(a16.features.noise).toBeCloseTo(a8.features.noise!, 1);
    expect(a16.features.flat).toBeCloseTo(a8.features.flat!, 5);

    const g8 = flatIllustration(200, 200);
    const g16 = new Uint16Array(g8.data.length);
    for (let i = 0; i < g16.length; i++) g16[i] = g8.data[i]! * 257;
    expect(analyzeContent({ ...g8, bitDepth: 16, data: g16 }).kind).toBe('graphics');
  });

  it('treats a cut-out sprite with transparency as graphics', () => {
    const rand = rng(3);
    const sprite = image(200, 240, 4, (x, y) => {
      const inside = ((x - 100) / 60) ** 2 + ((y - 120) / 90) ** 2 < 1;
      // transparent pixels carry junk colour, as some encoders leave it
      if (!inside) return [rand() * 255, rand() * 255, rand() * 255, 0];
      return y < 100 ? [230, 90, 90, 255] : [70, 70, 160, 255];
    });
    const a = analyzeContent(sprite);
    expect(a.kind).toBe('graphics');
    expect(a.features.transparent).toBeGreaterThan(0.4);
    expect(a.features.flat).toBeGreaterThan(0.8); // fully transparent neighbours count as equal
  });

  it('handles grey and grey+alpha images', () => {
    const text = flatIllustration(240, 280);
    const grey = new Uint8Array(text.width * text.height);
    for (let i = 0; i < grey.length; i++) grey[i] = text.data[i * 3 + 1]!;
    const a = analyzeContent({ width: text.width, height: text.height, channels: 1, bitDepth: 8, data: grey });
    expect(a.kind).toBe('graphics');
    expect(a.features.satMean).toBe(0);

    const photo = photoLike(200, 160, 5);
    const ga = new Uint8Array(photo.width * photo.height * 2);
    for (let i = 0; i < photo.width * photo.height; i++) {
      ga[i * 2] = photo.data[i * 3 + 1]!;
      ga[i * 2 + 1] = 255;
    }
    const b = analyzeContent({ width: photo.width, height: photo.height, channels: 2, bitDepth: 8, data: ga });
    expect(b.kind).toBe('photo');
    expect(b.features.transparent).toBe(0);
    expect(b.portrait).toBe(false); // no colour, no skin
  });

  it('flags a photo with a large central skin-toned region as a portrait, and only then', () => {
    const rand = rng(11);
    const noise = gaussian(rand);
    const base = photoLike(320, 400, 11);
    const withFace = image(320, 400, 3, (x, y) => {
      const o = (y * 320 + x) * 3;
      const inFace = ((x - 160) / 95) ** 2 + ((y - 180) / 125) ** 2 < 1;
      if (!inFace) return [base.data[o]!, base.data[o + 1]!, base.data[o + 2]!];
      const shade = 1 - 0.15 * ((x - 160) / 95) ** 2 + 0.05 * Math.sin(y / 9);
      return [215 * shade + 3 * noise(), 165 * shade + 3 * noise(), 135 * shade + 3 * noise()];
    });
    const a = analyzeContent(withFace);
    expect(a.kind).toBe('photo');
    expect(a.portrait).toBe(true);
    expect(presetFor(a)).toBe('face');
    expect(a.features.skinBlob).toBeGreaterThan(0.15);
    expect(a.features.skinBlobX).toBeCloseTo(0.5, 1);

    // the same skin tone as a flat fill in an illustration is not a portrait
    const flatFace = image(320, 400, 3, (x, y) =>
      ((x - 160) / 95) ** 2 + ((y - 180) / 125) ** 2 < 1 ? [215, 165, 135] : [250, 250, 250],
    );
    const b = analyzeContent(flatFace);
    expect(b.kind).toBe('graphics');
    expect(b.portrait).toBe(false);

    // skin tone off-centre (bottom-right corner) is not a portrait either
    const corner = image(320, 400, 3, (x, y) => {
      const o = (y * 320 + x) * 3;
      if (x > 200 && y > 280) return [215 + 3 * noise(), 165 + 3 * noise(), 135 + 3 * noise()];
      return [base.data[o]!, base.data[o + 1]!, base.data[o + 2]!];
    });
    expect(analyzeContent(corner).portrait).toBe(false);

    // a skin-toned texture filling nearly the whole frame (fur, wood, sand, a warm cast) is not a face
    const surface = image(320, 400, 3, (x, y) => {
      if (x < 16 || x >= 304) {
        const o = (y * 320 + x) * 3;
        return [base.data[o]!, base.data[o + 1]!, base.data[o + 2]!];
      }
      const shade = 1 + 0.08 * Math.sin(x / 7) * Math.cos(y / 5);
      return [200 * shade + 4 * noise(), 150 * shade + 4 * noise(), 115 * shade + 4 * noise()];
    });
    const s = analyzeContent(surface);
    expect(s.kind).toBe('photo');
    expect(s.features.skinBlob).toBeGreaterThan(0.75);
    expect(s.portrait).toBe(false);
  });

  it('still finds the portrait when it is small or JPEG-compressed', async () => {
    const astronaut = await fixture('eval/face/skimage-astronaut.png');
    for (const [factor, q] of [
      [1, undefined],
      [1, 70],
      [2, undefined],
      [4, undefined],
      [4, 70],
    ] as const) {
      const a = analyzeContent(await degrade(astronaut, factor, q));
      expect(presetFor(a), `×1/${factor} q${q}`).toBe('face');
    }
    // a cat's orange fur fills the frame: skin-coloured, but not a face
    expect(presetFor(analyzeContent(await fixture('eval/photo/skimage-chelsea.png')))).toBe('photo');
  });

  it('does not crash on degenerate sizes and rejects short buffers', () => {
    expect(analyzeContent({ width: 0, height: 0, channels: 3, bitDepth: 8, data: new Uint8Array(0) }).confidence).toBe(
      0,
    );
    const one = analyzeContent({ width: 1, height: 1, channels: 3, bitDepth: 8, data: new Uint8Array([10, 20, 30]) });
    expect(['photo', 'graphics']).toContain(one.kind);
    const strip = analyzeContent(photoLike(1000, 2, 9));
    expect(Number.isFinite(strip.features.noise)).toBe(true);
    expect(() => analyzeContent({ width: 10, height: 10, channels: 3, bitDepth: 8, data: new Uint8Array(10) })).toThrow(
      InvalidImageError,
    );
  });

  it('reports features in [0, 1] where they are fractions, and confidence in [0, 1]', () => {
    for (const img of [flatIllustration(), photoLike()]) {
      const a = analyzeContent(img);
      expect(a.confidence).toBeGreaterThanOrEqual(0);
      expect(a.confidence).toBeLessThanOrEqual(1);
      for (const k of [
        'flat',
        'nearFlat',
        'flatPure',
        'palette',
        'strongEdges',
        'transparent',
        'satMean',
        'skin',
        'skinBlob',
        'fillScore',
        'artScore',
        'graphicsScore',
      ]) {
        expect(a.features[k], k).toBeGreaterThanOrEqual(0);
        expect(a.features[k], k).toBeLessThanOrEqual(1);
      }
    }
  });

  it('stays cheap on a 1024×1024 image (bounded probe grid)', () => {
    const big = photoLike(1024, 1024, 2);
    analyzeContent(big); // JIT warm-up
    const t0 = performance.now();
    analyzeContent(big);
    // the target is < 30 ms; the bound here is loose so a busy CI machine does not fail it
    expect(performance.now() - t0).toBeLessThan(250);
  });
});
