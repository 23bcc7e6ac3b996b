/**
 * Colour rules of the simulated imaging API (real-host-2 G2 and the print documents of issue 25), from
 * AdobeDocs/uxp-photoshop ps-reference/media/imaging.md:
 *   - "Photoshop needs to know which color profile the data is expressed in … Photoshop will perform color
 *     conversions when needed"; `colorProfile`: "If the color profile is empty, then the profile of a target
 *     document will be used" — so RGB data with an empty profile in a CMYK or Lab document, or one-component
 *     (mask) data with an empty profile in an RGB document, is data in the wrong kind of profile: refused here.
 *   - masks and selections: `components: 1`, `colorSpace: "Grayscale"`, `colorProfile: "Gray Gamma 2.2"`.
 *   - getPixels `colorSpace` / `colorProfile`: "Requested color space of the returned pixels … the name of a
 *     color profile to apply"; "Lab data uses the "Lab D50" color profile".
 *   - 32-bit documents: profiles named with "(Linear RGB Profile)" — not simulated (the plugin refuses them).
 *
 * The simulator knows only these profile names (app.getColorProfiles would list the installed ones); any other
 * name is refused. CMYK and Lab documents keep their pixels as RGB in PRINT_RGB ("Adobe RGB (1998)", the profile
 * imaging.md itself names): they convert only to and from that profile. Writing into them models storage in the
 * document's mode at its bit depth (CMYK: a plain undercolour model with K; Lab: an opponent transform), so a
 * round trip through the simulator measures the plugin's handling (bit depths, ranges, profiles), not
 * Photoshop's colour engine; the real conversion is a checklist row.
 */

export const RGB_PROFILES = ['sRGB IEC61966-2.1', 'Adobe RGB (1998)', 'Display P3'] as const;
export const GRAY_PROFILES = ['Gray Gamma 2.2', 'Dot Gain 20%', 'Generic Gray Profile'] as const;
/** The RGB profile CMYK and Lab documents convert to and from in the simulator. */
export const PRINT_RGB = 'Adobe RGB (1998)';
/** The profiles the simulated documents carry, by mode. */
export const DOC_PROFILE: Record<string, string> = {
  RGBColorMode: 'sRGB IEC61966-2.1',
  grayscaleMode: 'Dot Gain 20%',
  CMYKColorMode: 'U.S. Web Coated (SWOP) v2',
  labColorMode: 'Lab D50',
};

export type ColorSpaceName = 'RGB' | 'Grayscale' | 'Lab';

/** Throws unless `profile` (empty = the document's) is a profile for data in `space` in a `mode` document. */
export function checkDataProfile(what: string, mode: string, space: string, profile: string): void {
  const effective = profile || DOC_PROFILE[mode] || '';
  if (space === 'Grayscale') {
    if (!(GRAY_PROFILES as readonly string[]).includes(effective))
      throw new Error(
        `${what}: one-component Grayscale data with the profile "${effective}" (${profile ? 'given' : "the document's, as the profile was empty"}); mask data needs a gray profile such as "Gray Gamma 2.2"`,
      );
    return;
  }
  if (space === 'RGB') {
    if (!(RGB_PROFILES as readonly string[]).includes(effective))
      throw new Error(
        `${what}: RGB data with the profile "${effective}" (${profile ? 'given' : "the document's, as the profile was empty"}); RGB data needs an RGB profile`,
      );
    if ((mode === 'CMYKColorMode' || mode === 'labColorMode') && effective !== PRINT_RGB)
      throw new Error(`${what}: the simulator converts ${mode} documents only to and from "${PRINT_RGB}"`);
    return;
  }
  throw new Error(`${what}: ${space} data is not simulated`);
}

/** Whether a document of this mode holds RGB-equivalent pixels reached only through a conversion. */
export function isPrintMode(mode: string): boolean {
  return mode === 'CMYKColorMode' || mode === 'labColorMode';
}

/**
 * Stores full-range RGB (0..max) as a `mode` document at `depth` would: converted to the mode, quantised to its
 * steps (8-bit: 255; 16-bit: Photoshop's 0..32768), and back. In place, `c` components per pixel, the first 3 colour.
 */
export function storeThroughMode(mode: string, depth: 8 | 16, data: Uint8Array | Uint16Array, c: number): void {
  if (!isPrintMode(mode)) return;
  const max = depth === 16 ? 65535 : 255;
  const steps = depth === 16 ? 32768 : 255;
  const q = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * steps) / steps;
  for (let i = 0; i < data.length; i += c) {
    const r = data[i]! / max,
      g = data[i + 1]! / max,
      b = data[i + 2]! / max;
    let R: number, G: number, B: number;
    if (mode === 'CMYKColorMode') {
      const k = q(1 - Math.max(r, g, b));
      const d = 1 - k || 1;
      const cy = q((1 - r - k) / d),
        m = q((1 - g - k) / d),
        y = q((1 - b - k) / d);
      R = (1 - cy) * (1 - k);
      G = (1 - m) * (1 - k);
      B = (1 - y) * (1 - k);
    } else {
      // An opponent transform standing in for L*a*b*: lightness in 0..1, two chroma axes around 0.5.
      const L = q(0.299 * r + 0.587 * g + 0.114 * b);
      const A = q(0.5 + 0.5 * (r - g)),
        Bb = q(0.5 + 0.5 * (0.5 * (r + g) - b));
      const rg = 2 * (A - 0.5),
        yb = 2 * (Bb - 0.5);
      // Invert: r - g = rg, (r + g)/2 - b = yb, 0.299 r + 0.587 g + 0.114 b = L.
      const gg = (L - 0.299 * rg - 0.114 * (0.5 * rg - yb)) / (0.299 + 0.587 + 0.114);
      R = gg + rg;
      G = gg;
      B = 0.5 * (R + G) - yb;
    }
    data[i] = Math.round(Math.min(1, Math.max(0, R)) * max);
    data[i + 1] = Math.round(Math.min(1, Math.max(0, G)) * max);
    data[i + 2] = Math.round(Math.min(1, Math.max(0, B)) * max);
  }
}
