/**
 * The panel's HTML and CSS stay within what UXP renders. Each rule names its source in UXP's documentation
 * (developer.adobe.com/photoshop/uxp/2022/uxp-api/): the CSS reference (reference-css/styles/) lists the
 * supported properties; the known-issues page (known-issues.md) and the changelog name the exceptions.
 * The manifest allows Photoshop 25 (UXP 7), so features that arrived in UXP 8 are out too.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const css = readFileSync(join(ROOT, 'photoshop-plugin', 'src', 'panel.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
const html = readFileSync(join(ROOT, 'photoshop-plugin', 'src', 'index.html'), 'utf8');
const properties = [...css.matchAll(/([a-z-]+)\s*:\s*([^;}]+)[;}]/g)].map((m) => ({
  name: m[1]!,
  value: m[2]!.trim(),
}));

const UNSUPPORTED_PROPERTIES: [RegExp, string][] = [
  [/^(gap|row-gap|column-gap)$/, 'not in the CSS reference (reference-css/styles)'],
  [/^(aspect-ratio|object-fit|object-position|image-rendering)$/, 'not in the CSS reference'],
  [/^(transition|animation)(-|$)/, 'known issues: "CSS transitions and animations are not supported."'],
  [/^font$/, 'known issues: "The font shorthand CSS rule is not supported."'],
  [/^(grid|grid-template-columns|grid-template-rows|grid-area)$/, 'not in the CSS reference'],
];
const UNSUPPORTED_VALUES: [RegExp, string][] = [
  [/linear-gradient\(/, 'linear-gradient start/end support arrived in UXP 8.1 (changelog); PS 25 ships UXP 7'],
];

describe('Photoshop panel HTML/CSS within what UXP supports', () => {
  it('uses no CSS property or value UXP does not render', () => {
    expect(properties.length).toBeGreaterThan(50); // the parser sees the rules
    const bad = properties.flatMap(({ name, value }) => [
      ...UNSUPPORTED_PROPERTIES.filter(([re]) => re.test(name)).map(([, why]) => `${name}: ${value} — ${why}`),
      ...UNSUPPORTED_VALUES.filter(([re]) => re.test(value)).map(([, why]) => `${name}: ${value} — ${why}`),
    ]);
    expect(bad).toEqual([]);
  });

  it('uses no HTML UXP does not support', () => {
    // known issues: "<label for="id"/> is not supported" — wrap the control in its label instead.
    expect(html).not.toMatch(/<label[^>]*\sfor=/);
  });
});
