/// <reference types="@figma/plugin-typings" />
/** Where a replaced fill is written (a node, its main component's node, a local paint style), and what it needs first. */
import { HostStateError } from '@enlarge/core';
import { hasFills, instanceAbove, quote, type FillTarget, type WriteTo } from './collect.js';

export async function imageFor(figma: PluginAPI, hash: string, name: string) {
  const image = figma.getImageByHash(hash);
  if (!image)
    throw new HostStateError(`The image of ${quote(name)} is not available in this file. Nothing was changed.`);
  let size: { width: number; height: number };
  try {
    size = await image.getSizeAsync();
  } catch (err) {
    throw new HostStateError(
      `The image of ${quote(name)} could not be read (${(err as Error).message}). Nothing was changed.`,
    );
  }
  return { image, size };
}

/** Loads every font of a text layer (writes to it throw until then); the name of a font that cannot load. */
export async function loadFonts(figma: PluginAPI, node: BaseNode): Promise<string | undefined> {
  if (node.type !== 'TEXT') return undefined;
  const fonts =
    node.characters.length > 0
      ? node.getRangeAllFontNames(0, node.characters.length)
      : node.fontName !== figma.mixed
        ? [node.fontName as FontName]
        : [];
  for (const f of fonts) {
    try {
      await figma.loadFontAsync(f);
    } catch {
      return `${f.family} ${f.style}`;
    }
  }
  return undefined;
}

/**
 * Where a replaced fill is written, or why it is left alone (a plain sentence). Follows an instance
 * sublayer to its main component's node while that node shows the same image (nested instances too), then
 * a local paint style the fill is linked to.
 */
export async function resolveWrite(figma: PluginAPI, t: FillTarget): Promise<WriteTo | { skip: string }> {
  const found = (await figma.getNodeByIdAsync(t.nodeId)) as SceneNode | null;
  if (!found || !hasFills(found)) return { skip: `${quote(t.nodeName)} is no longer there, so it was left alone.` };
  let node: SceneNode = found;
  let via: string | undefined;
  for (let depth = 0; depth < 8; depth++) {
    const inst = node.type === 'INSTANCE' ? node : instanceAbove(node);
    if (!inst) break;
    const main = await inst.getMainComponentAsync();
    // The node in the main component this one mirrors: the instance itself mirrors the component; a
    // sublayer's id is I<instance id>;<id of its node in the main component> (last part).
    const sourceId: string | undefined =
      node === inst ? main?.id : node.id.includes(';') ? node.id.slice(node.id.lastIndexOf(';') + 1) : undefined;
    const source: SceneNode | null = sourceId ? ((await figma.getNodeByIdAsync(sourceId)) as SceneNode | null) : null;
    const sp = source && hasFills(source) && Array.isArray(source.fills) ? source.fills[t.paintIndex] : undefined;
    const same = !!main && sp?.type === 'IMAGE' && sp.imageHash === t.hash;
    if (!same || !main) break; // this instance overrides the image: enlarging it here adds no new override
    if (main.remote)
      return {
        skip: `${quote(t.nodeName)} shows the image of the library component ${quote(main.name)}, which can only be changed in its library file, so it was left alone.`,
      };
    node = source!;
    via = main.name;
  }
  if (!hasFills(node)) return { skip: `${quote(t.nodeName)} cannot be changed here, so it was left alone.` };
  const styleId = node.fillStyleId;
  if (typeof styleId === 'string' && styleId !== '') {
    const style = await figma.getStyleByIdAsync(styleId);
    if (!style || style.type !== 'PAINT')
      return { skip: `${quote(t.nodeName)} takes its fill from a style Enlarge cannot read, so it was left alone.` };
    if (style.remote)
      return {
        skip: `${quote(t.nodeName)} takes its fill from the library style ${quote(style.name)}, which can only be changed in its library file, so it was left alone.`,
      };
    const p = (style as PaintStyle).paints[t.paintIndex];
    if (p?.type !== 'IMAGE' || p.imageHash !== t.hash)
      return { skip: `${quote(t.nodeName)}'s fill and its style ${quote(style.name)} differ, so it was left alone.` };
    return { kind: 'style', id: style.id, name: style.name };
  }
  const font = await loadFonts(figma, node);
  if (font)
    return {
      skip: `${quote(t.nodeName)} uses the font ${font}, which is not available on this computer, so its fill was left alone.`,
    };
  return { kind: 'node', id: node.id, name: node.name, via };
}
