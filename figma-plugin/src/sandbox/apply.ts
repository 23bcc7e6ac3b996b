/// <reference types="@figma/plugin-typings" />
/** The write at the end of a run: every node and style checked first, then one all-or-nothing undo step. */
import { HostStateError } from '@enlarge/core';
import { FIGMA_MAX_IMAGE_SIDE, formatFactor, type Settings } from '../shared.js';
import { hasFills, pageOf, quote, type FillsNode } from './collect.js';
import type { Job, PlacedCell } from './plan.js';
import { RELAUNCH_COMMAND, type Session } from './session.js';
import { loadFonts } from './write-target.js';

const GAP = 40;

/**
 * Checks every node and style first and loads the fonts (all awaits happen here), then writes everything
 * synchronously as one undo step; if Figma refuses any write, the step is undone.
 */
/** The layers with the most invented area (the detail map's share above its "check this" level), at most 3. */
export function inventedSummary(jobs: Job[]): string {
  const top = jobs
    .filter((j) => (j.result?.invented ?? 0) >= 0.001)
    .sort((a, b) => b.result!.invented! - a.result!.invented!)
    .slice(0, 3);
  if (!top.length) return '';
  const list = top.map((j) => `${quote(j.label)} ${(100 * j.result!.invented!).toFixed(1)} %`).join(', ');
  return `Most invented detail (check faces and text there): ${list}.`;
}

export async function apply(ss: Session, jobs: Job[], s: Settings): Promise<{ text: string; short: string }> {
  const { figma, catalog } = ss;
  const nodes = new Map<string, FillsNode>(); // by id: the nodes written (replace) or placed beside (copies)
  const styles = new Map<string, PaintStyle>();
  const pages = new Map<string, PageNode>(); // by original node id: where its copies go
  const gone = (name: string) =>
    new HostStateError(`${quote(name)} was deleted while it was being enlarged. Nothing was changed.`);
  const changed = (name: string) =>
    new HostStateError(
      `The image fill of ${quote(name)} changed while it was being enlarged. Nothing was changed; run again.`,
    );
  const inPlace = (job: Job) => s.output === 'replace' && job.result!.cells.length === 1;
  for (const job of jobs) {
    for (const t of job.targets) {
      if (inPlace(job) && t.write?.kind === 'style') {
        const style = await figma.getStyleByIdAsync(t.write.id);
        if (!style || style.type !== 'PAINT') throw gone(t.write.name);
        const p = (style as PaintStyle).paints[t.paintIndex];
        if (p?.type !== 'IMAGE' || p.imageHash !== t.hash) throw changed(t.nodeName);
        styles.set(style.id, style as PaintStyle);
        continue;
      }
      const id = inPlace(job) && t.write ? t.write.id : t.nodeId;
      if (nodes.has(id)) continue;
      const node = await figma.getNodeByIdAsync(id);
      if (!node || node.removed) throw gone(t.nodeName);
      if (!hasFills(node) || !Array.isArray(node.fills))
        throw new HostStateError(`${quote(t.nodeName)} no longer has fills. Nothing was changed.`);
      const p = (node.fills as readonly Paint[])[t.paintIndex];
      if (!p || p.type !== 'IMAGE' || p.imageHash !== t.hash) throw changed(t.nodeName);
      if (inPlace(job)) {
        const font = await loadFonts(ss.figma, node); // cached by Figma: cheap when planRun loaded it already
        if (font)
          throw new HostStateError(
            `${quote(t.nodeName)} uses the font ${font}, which is not available on this computer. Nothing was changed.`,
          );
      } else {
        const page = pageOf(node);
        if (!page) throw gone(t.nodeName);
        await page.loadAsync();
        pages.set(id, page);
      }
      nodes.set(id, node);
    }
  }
  if (ss.closed || ss.current?.stopped) throw new HostStateError(ss.current?.stopped ?? 'The plugin was closed.');

  // ---- from here on, no awaits: the whole write is one undo step ----
  figma.commitUndo(); // whatever came before is its own step: an undo below reverts only this run
  const nodeFills = new Map<string, Paint[]>();
  const stylePaints = new Map<string, Paint[]>();
  const created: SceneNode[] = [];
  const beside = new Map<string, number>(); // next free y beside each node
  const relaunch = `Enlarged ${[...new Set(jobs.map((j) => formatFactor(j.factor)))].join(', ')} (${catalog.preset(s.preset).label})`;
  let replaced = 0,
    viaMain = 0,
    viaStyle = 0,
    copies = 0,
    grids = 0;
  const otherPage = new Set<string>();
  let doing = '';
  // Set after the first write that went in: if the very first write is refused, nothing of this run is in the
  // document, and triggerUndo ("reverts to the last commitUndo() state") would undo the user's previous step (H2).
  let wrote = false;
  try {
    for (const job of jobs) {
      const r = job.result!;
      for (const t of job.targets) {
        doing = t.nodeName;
        if (inPlace(job)) {
          const w = t.write ?? { kind: 'node' as const, id: t.nodeId, name: t.nodeName };
          const map = w.kind === 'style' ? stylePaints : nodeFills;
          const base = w.kind === 'style' ? styles.get(w.id)!.paints : (nodes.get(w.id)!.fills as readonly Paint[]);
          const paints = map.get(w.id) ?? base.map((p) => clonePaint(p));
          paints[t.paintIndex] = enlargedPaint(
            paints[t.paintIndex] as ImagePaint,
            r.cells[0]!.hash,
            job.width,
            r.width,
          );
          map.set(w.id, paints);
          replaced++;
          if (w.kind === 'style') viaStyle++;
          else if (w.via) viaMain++;
          continue;
        }
        const node = nodes.get(t.nodeId)!;
        const page = pages.get(t.nodeId)!;
        if (page.id !== figma.currentPage.id) otherPage.add(page.name);
        const box = node.absoluteBoundingBox ?? { x: node.x, y: node.y, width: node.width, height: node.height };
        const x = Math.round(box.x + box.width + GAP);
        const y = beside.get(t.nodeId) ?? Math.round(box.y);
        const nodeName = `${t.nodeName} @${formatFactor(job.factor)}`;
        const rects = r.cells.map((cell, i) => {
          const rect = figma.createRectangle();
          wrote = true;
          page.appendChild(rect); // the original's page, even if the user switched pages meanwhile
          created.push(rect);
          rect.name =
            r.cells.length === 1
              ? nodeName
              : `${nodeName} — tile ${i + 1}/${r.cells.length} (r${rowOf(r.cells, cell)} c${colOf(r.cells, cell)})`;
          rect.resize(cell.width, cell.height);
          rect.x = x + cell.x;
          rect.y = y + cell.y;
          rect.fills = [imagePaintFor(t.paint, cell.hash)];
          return rect;
        });
        if (rects.length > 1) {
          const group = figma.group(rects, page);
          created.push(group);
          const cols = new Set(r.cells.map((c) => c.x)).size;
          const rows = new Set(r.cells.map((c) => c.y)).size;
          group.name = `${nodeName} — ${r.width}×${r.height} px, ${rects.length} tiles (${cols}×${rows})`;
          setRelaunch(group, relaunch);
          grids++;
        } else {
          setRelaunch(rects[0]!, relaunch);
          copies++;
        }
        beside.set(t.nodeId, y + r.height + GAP);
      }
    }
    for (const [id, fills] of nodeFills) {
      const node = nodes.get(id)!;
      doing = node.name;
      node.fills = fills;
      wrote = true;
      setRelaunch(node, relaunch);
    }
    for (const [id, paints] of stylePaints) {
      const style = styles.get(id)!;
      doing = `the style ${style.name}`;
      style.paints = paints;
      wrote = true;
    }
  } catch (err) {
    if (wrote) figma.triggerUndo(); // "Reverts to the last commitUndo() state": the one made just above
    const undone =
      !wrote ||
      ([...nodeFills.keys()].every((id) => same(nodes.get(id)!.fills, id)) &&
        [...stylePaints.keys()].every((id) => same(styles.get(id)!.paints, id)) &&
        created.every((n) => n.removed));
    const what = doing.startsWith('the style ') ? doing : quote(doing);
    throw new HostStateError(
      undone
        ? `Figma refused to change ${what} (${(err as Error).message}). Everything this run had changed was undone, so the document is as it was.`
        : `Figma refused to change ${what} (${(err as Error).message}), and not everything this run had changed could be undone: check the layers, and use Undo (Ctrl/Cmd+Z) if needed.`,
    );
  }
  figma.commitUndo();

  function same(now: readonly Paint[] | typeof figma.mixed, id: string): boolean {
    const orig = jobs.flatMap((j) => j.targets).filter((t) => t.write?.id === id || (!t.write && t.nodeId === id));
    return Array.isArray(now) && orig.every((t) => (now[t.paintIndex] as ImagePaint | undefined)?.imageHash === t.hash);
  }

  const parts: string[] = [];
  const preset = catalog.preset(s.preset).label;
  if (replaced) {
    const where = [
      viaStyle
        ? `${viaStyle} through ${viaStyle > 1 ? 'their paint styles' : 'its paint style'} (every layer using it)`
        : '',
      viaMain ? `${viaMain} in the main component${viaMain > 1 ? 's' : ''} (every instance)` : '',
    ].filter(Boolean);
    parts.push(
      `Enlarged ${replaced} image fill${replaced > 1 ? 's' : ''} in place${where.length ? `, ${where.join(' and ')}` : ''}`,
    );
  }
  if (copies)
    parts.push(`added ${copies} enlarged cop${copies > 1 ? 'ies' : 'y'} beside the original${copies > 1 ? 's' : ''}`);
  if (grids)
    parts.push(
      `added ${grids} tiled grid${grids > 1 ? 's' : ''} beside the original${grids > 1 ? 's' : ''} (over Figma's ${FIGMA_MAX_IMAGE_SIDE} px image limit${s.output === 'replace' ? '; the original fill is unchanged' : ''})`,
    );
  const text = parts.join(', ');
  const pageNote = otherPage.size ? ` The new layers are on the page ${[...otherPage].map(quote).join(', ')}.` : '';
  const factors = [...new Set(jobs.map((j) => formatFactor(j.factor)))].join('/');
  const count = replaced + copies + grids;
  return {
    text: `${text.charAt(0).toUpperCase()}${text.slice(1)} (${preset}). Undo restores the original in one step.${pageNote}`,
    short: `Enlarged ${count} image${count > 1 ? 's' : ''} ${factors}. Undo restores ${count > 1 ? 'them' : 'it'}.`,
  };
}

/** The relaunch button on an enlarged layer; cosmetic, so a refusal does not fail the run. */
function setRelaunch(node: SceneNode, description: string) {
  try {
    node.setRelaunchData({ [RELAUNCH_COMMAND]: description });
  } catch {
    /* e.g. a layer type without relaunch data: the run's result is the same without the button */
  }
}

/**
 * The replaced paint: only the image changes, except that a TILE paint keeps its tile size on the canvas
 * (a tile is scalingFactor × the image's pixel size, so the factor shrinks as the image grows).
 */
export function enlargedPaint(p: ImagePaint, hash: string, oldWidth: number, newWidth: number): ImagePaint {
  const out: { -readonly [K in keyof ImagePaint]: ImagePaint[K] } = { ...p, imageHash: hash };
  if (p.scaleMode === 'TILE') out.scalingFactor = ((p.scalingFactor ?? 1) * oldWidth) / newWidth;
  return out;
}

function rowOf(cells: PlacedCell[], c: PlacedCell) {
  return [...new Set(cells.map((x) => x.y))].sort((a, b) => a - b).indexOf(c.y) + 1;
}
function colOf(cells: PlacedCell[], c: PlacedCell) {
  return [...new Set(cells.map((x) => x.x))].sort((a, b) => a - b).indexOf(c.x) + 1;
}

/** A plain mutable copy of a paint (fills are frozen; nested arrays and objects are copied too). */
function clonePaint(p: Paint): Paint {
  return JSON.parse(JSON.stringify(p)) as Paint;
}

/** The paint of a new node at the result's own pixel size: the image fills it 1:1; the look of the paint is kept. */
function imagePaintFor(base: ImagePaint, hash: string): ImagePaint {
  const p: { -readonly [K in keyof ImagePaint]?: ImagePaint[K] } = {
    type: 'IMAGE',
    scaleMode: 'FILL',
    imageHash: hash,
  };
  if (base.filters) p.filters = { ...base.filters };
  if (base.opacity !== undefined) p.opacity = base.opacity;
  if (base.blendMode !== undefined) p.blendMode = base.blendMode;
  if (base.visible !== undefined) p.visible = base.visible;
  return p as ImagePaint;
}
