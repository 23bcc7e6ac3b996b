// The model set a plugin package carries (models/bundles.json): a manifest restricted to those models and
// the list of files to copy, each with the sha256 the engine checks before loading it.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The presets a package can offer with its models: a preset naming models keeps only those present (and is
 * dropped when none is), a family preset needs one model of its family; `best` lists are cut the same way.
 * @param {any[]} presets
 * @param {any[]} models
 */
export function presetsFor(presets, models) {
  const ids = new Set(models.map((m) => m.id));
  const out = [];
  for (const p of presets) {
    if (p.models) {
      const kept = p.models.filter((id) => ids.has(id));
      if (kept.length === 0) continue;
      const best = p.best?.filter((id) => ids.has(id));
      const q = { ...p, models: kept };
      if (best?.length) q.best = best;
      else delete q.best;
      out.push(q);
    } else if (p.family) {
      if (models.some((m) => m.family === p.family)) out.push(p);
    } else out.push(p); // 'auto': chooses among the others
  }
  return out;
}

/**
 * @param {'figma' | 'figma-full' | 'photoshop' | 'web'} host
 * @returns {{ manifest: { schema: unknown, generatedBy: unknown, models: any[], detectors: any[] }, files: { file: string, path: string, sha256: string, bytes: number }[] }}
 */
export function pluginModels(host) {
  const bundles = JSON.parse(readFileSync(path.join(root, 'models', 'bundles.json'), 'utf8'));
  const ids = bundles[host]?.models;
  if (!Array.isArray(ids)) throw new Error(`models/bundles.json has no model list for "${host}".`);
  const manifestFile = path.join(root, 'models', 'manifest.json');
  if (!existsSync(manifestFile))
    throw new Error('models/manifest.json is missing: run "npm run models" first (npm install does it).');
  const full = JSON.parse(readFileSync(manifestFile, 'utf8'));
  const models = ids.map((id) => {
    const m = full.models.find((x) => x.id === id);
    if (!m)
      throw new Error(
        `models/bundles.json names "${id}" for ${host}, but the catalog (models/manifest.json) has no such model.`,
      );
    // A quantized variant ships only where it is the default on the plugins' CPU path (WASM); otherwise the
    // bundled catalog does not mention it.
    const variants = (m.variants ?? []).filter((v) => v.defaultOn.includes('wasm'));
    const { variants: _all, ...rest } = m;
    return variants.length > 0 ? { ...rest, variants } : rest;
  });
  const detectorIds = bundles[host].detectors ?? [];
  if (!Array.isArray(detectorIds)) throw new Error(`models/bundles.json: "detectors" of "${host}" must be a list.`);
  const detectors = detectorIds.map((id) => {
    const d = (full.detectors ?? []).find((x) => x.id === id);
    if (!d)
      throw new Error(
        `models/bundles.json names the detector "${id}" for ${host}, but the catalog (models/manifest.json) has no such detector.`,
      );
    return d;
  });
  const files = [];
  for (const d of detectors) {
    const p = path.join(root, 'models', 'onnx', d.file);
    if (!existsSync(p))
      throw new Error(`The detector file ${d.file} is missing from models/onnx: run "npm run models" first.`);
    files.push({ file: d.file, path: p, sha256: d.sha256, bytes: d.bytes });
  }
  for (const m of models) {
    const variantFiles = (m.variants ?? []).flatMap((v) => [v, ...(v.seSplit ?? [])]);
    // A split model (RRDB) runs as its body and tail (core/src/runtime/tail-split.ts): those go in, not the whole graph.
    const graph = m.tailSplit ? [m.tailSplit.body, m.tailSplit.tail] : [{ file: m.file, sha256: m.sha256, bytes: m.bytes }];
    for (const f of [...graph, ...(m.seSplit ?? []), ...variantFiles]) {
      const p = path.join(root, 'models', 'onnx', f.file);
      if (!existsSync(p))
        throw new Error(`The model file ${f.file} is missing from models/onnx: run "npm run models" first.`);
      files.push({ file: f.file, path: p, sha256: f.sha256, bytes: f.bytes });
    }
  }
  return {
    manifest: {
      schema: full.schema,
      generatedBy: full.generatedBy,
      presets: presetsFor(full.presets, models),
      backends: full.backends,
      models,
      detectors,
    },
    files,
  };
}
