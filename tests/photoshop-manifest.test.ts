/**
 * photoshop-plugin/manifest.json against the UXP manifest v5 rules, as a small validator written from Adobe's
 * pages (developer.adobe.com/photoshop/uxp/2022/guides/uxp_guide/uxp-misc/manifest-v5/ and the webview
 * reference): required keys, host app/minVersion, entrypoint ids/types/labels, panel sizes and icons,
 * permissions (minimal: the plugin folder, local webview content with the message bridge, no network).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

const PLUGIN = join(ROOT, 'photoshop-plugin');
type Json = Record<string, any>;

const semver = /^\d+\.\d+\.\d+$/;
const THEMES = new Set(['all', 'lightest', 'light', 'medium', 'dark', 'darkest']);

/** Returns the rule violations of a manifest v5 (empty = valid). */
export function validateManifestV5(m: Json, pluginDir?: string): string[] {
  const errors: string[] = [];
  const need = (cond: unknown, msg: string) => {
    if (!cond) errors.push(msg);
  };
  need(m.manifestVersion === 5, 'manifestVersion must be 5');
  need(typeof m.id === 'string' && m.id.length > 0, 'id is required');
  need(typeof m.name === 'string' && m.name.length > 0 && m.name.length <= 45, 'name is required (≤ 45 characters)');
  need(typeof m.version === 'string' && semver.test(m.version), 'version must be x.y.z');
  need(typeof m.main === 'string' && /\.(html|js)$/.test(m.main), 'main must be an .html or .js file');
  const hosts = Array.isArray(m.host) ? m.host : [m.host];
  for (const h of hosts) {
    need(h && ['PS', 'XD', 'ID', 'PPRO'].includes(h.app), 'host.app must be a known host (PS)');
    need(
      h && typeof h.minVersion === 'string' && /^\d+\.\d+(\.\d+)?$/.test(h.minVersion),
      'host.minVersion must be a version string',
    );
    // Photoshop's host.data keys (guides/uxp-guide/uxp-misc/manifest-v4/photoshop-manifest): apiVersion 1|2,
    // loadEvent "use"|"startup", enableMenuRecording boolean.
    const data = h?.data ?? {};
    for (const k of Object.keys(data))
      need(['apiVersion', 'loadEvent', 'enableMenuRecording'].includes(k), `host.data.${k} is not a Photoshop key`);
    need(data.apiVersion === undefined || [1, 2].includes(data.apiVersion), 'host.data.apiVersion must be 1 or 2');
    need(
      data.loadEvent === undefined || ['use', 'startup'].includes(data.loadEvent),
      'host.data.loadEvent must be "use" or "startup"',
    );
    need(
      data.enableMenuRecording === undefined || typeof data.enableMenuRecording === 'boolean',
      'host.data.enableMenuRecording must be a boolean',
    );
  }
  const icon = (i: Json, where: string) => {
    need(Number.isInteger(i.width) && Number.isInteger(i.height), `${where}: icon width/height`);
    need(typeof i.path === 'string', `${where}: icon path`);
    need(
      Array.isArray(i.scale) && i.scale.every((s: number) => [1, 1.5, 2].includes(s)),
      `${where}: icon scale ⊆ [1, 1.5, 2]`,
    );
    need(Array.isArray(i.theme) && i.theme.every((t: string) => THEMES.has(t)), `${where}: icon themes`);
    if (pluginDir && typeof i.path === 'string') {
      // "[1, 2] means that there is a @1x and @2x version of the icon specified at the path" (UXP manifest
      // reference, guides/uxp-guide/uxp-misc/manifest-v4): every scale has its suffixed file.
      for (const s of i.scale ?? [1]) {
        const p = i.path.replace(/\.png$/, `@${s}x.png`);
        need(existsSync(join(pluginDir, p)), `${where}: icon file ${p} is missing`);
      }
    }
  };
  need(Array.isArray(m.entrypoints) && m.entrypoints.length > 0, 'entrypoints must be a non-empty array');
  const ids = new Set<string>();
  for (const e of m.entrypoints ?? []) {
    const where = `entrypoint ${e.id}`;
    need(['command', 'panel'].includes(e.type), `${where}: type must be command or panel`);
    need(typeof e.id === 'string' && /^[A-Za-z][A-Za-z0-9_.-]*$/.test(e.id), `${where}: id must be an identifier`);
    need(!ids.has(e.id), `${where}: duplicate id`);
    ids.add(e.id);
    need(
      typeof e.label === 'string' || (e.label && typeof e.label.default === 'string' && e.label.default.length > 0),
      `${where}: label (or label.default) is required`,
    );
    if (e.type === 'panel') {
      for (const k of ['minimumSize', 'maximumSize', 'preferredDockedSize', 'preferredFloatingSize']) {
        need(e[k] && e[k].width > 0 && e[k].height > 0, `${where}: ${k} {width, height}`);
      }
      if (e.minimumSize && e.maximumSize)
        need(
          e.minimumSize.width <= e.maximumSize.width && e.minimumSize.height <= e.maximumSize.height,
          `${where}: minimumSize ≤ maximumSize`,
        );
      for (const k of ['preferredDockedSize', 'preferredFloatingSize']) {
        if (e[k] && e.minimumSize && e.maximumSize)
          need(
            e[k].width >= e.minimumSize.width &&
              e[k].width <= e.maximumSize.width &&
              e[k].height >= e.minimumSize.height &&
              e[k].height <= e.maximumSize.height,
            `${where}: ${k} within min/max`,
          );
      }
      for (const i of e.icons ?? []) icon(i, where);
    }
  }
  for (const i of m.icons ?? []) icon(i, 'plugin');
  const p = m.requiredPermissions ?? {};
  const known = new Set([
    'localFileSystem',
    'network',
    'clipboard',
    'webview',
    'launchProcess',
    'allowCodeGenerationFromStrings',
    'ipc',
    'fonts',
    'enableUserInfo',
  ]);
  for (const k of Object.keys(p)) need(known.has(k), `requiredPermissions.${k} is not a known permission`);
  if (p.localFileSystem !== undefined)
    need(
      ['plugin', 'request', 'fullAccess'].includes(p.localFileSystem),
      'localFileSystem ∈ plugin|request|fullAccess',
    );
  if (p.webview !== undefined) {
    need(p.webview.allow === 'yes', 'webview.allow must be "yes"');
    need(p.webview.domains === 'all' || Array.isArray(p.webview.domains), 'webview.domains: "all" or a list');
    if (p.webview.enableMessageBridge !== undefined)
      need(
        ['no', 'localOnly', 'localAndRemote'].includes(p.webview.enableMessageBridge),
        'webview.enableMessageBridge ∈ no|localOnly|localAndRemote',
      );
    if (p.webview.allowLocalRendering !== undefined)
      need(p.webview.allowLocalRendering === 'yes', 'webview.allowLocalRendering must be "yes" when given');
  }
  if (p.network !== undefined) need(p.network.domains === 'all' || Array.isArray(p.network.domains), 'network.domains');
  return errors;
}

describe('photoshop-plugin/manifest.json (UXP manifest v5)', () => {
  const m = JSON.parse(readFileSync(join(PLUGIN, 'manifest.json'), 'utf8')) as Json;

  it('is a valid v5 manifest', () => {
    expect(validateManifestV5(m)).toEqual([]);
  });

  it('declares the commands and the panel, with the ids the code registers', () => {
    expect(m.entrypoints.map((e: Json) => [e.type, e.id, e.label.default])).toEqual([
      ['command', 'upscaleLayer4x', 'Upscale Layer 4×'],
      ['command', 'upscaleLayer2x', 'Upscale Layer 2×'],
      ['command', 'diagnostics', 'Enlarge Diagnostics…'],
      ['panel', 'enlargePanel', 'Enlarge'],
    ]);
    const src = readFileSync(join(PLUGIN, 'src', 'plugin', 'index.ts'), 'utf8');
    for (const e of m.entrypoints) expect(src).toContain(`${e.id}:`);
  });

  it('asks for the minimum: Photoshop 25.0 (Selection API), plugin folder, local webview + bridge, no network', () => {
    // enableMenuRecording: the commands can be recorded into an Action ("Plugin Menu Command") and so get an F-key.
    expect(m.host).toEqual({ app: 'PS', minVersion: '25.0.0', data: { enableMenuRecording: true } });
    expect(m.requiredPermissions).toEqual({
      localFileSystem: 'plugin',
      webview: { allow: 'yes', domains: [], allowLocalRendering: 'yes', enableMessageBridge: 'localAndRemote' },
    });
    expect(m.requiredPermissions.network).toBeUndefined();
  });

  it('the built folder has every icon the manifest names', () => {
    const dist = join(PLUGIN, 'dist');
    // Built from the current sources by tests/global-setup.ts before any file runs.
    expect(existsSync(join(dist, 'manifest.json')), 'photoshop-plugin/dist was not built').toBe(true);
    expect(validateManifestV5(JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8')), dist)).toEqual([]);
  });

  it('the validator catches broken manifests', () => {
    const bad = structuredClone(m);
    bad.manifestVersion = 4;
    bad.entrypoints[1].id = 'upscaleLayer4x';
    bad.entrypoints[3].preferredDockedSize = { width: 100, height: 520 };
    bad.requiredPermissions.webview.allow = 'no';
    delete bad.entrypoints[0].label;
    bad.host.data.enableMenuRecording = 'yes';
    expect(validateManifestV5(bad)).toEqual([
      'manifestVersion must be 5',
      'host.data.enableMenuRecording must be a boolean',
      'entrypoint upscaleLayer4x: label (or label.default) is required',
      'entrypoint upscaleLayer4x: duplicate id',
      'entrypoint enlargePanel: preferredDockedSize within min/max',
      'webview.allow must be "yes"',
    ]);
  });
});
