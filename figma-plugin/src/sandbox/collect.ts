/// <reference types="@figma/plugin-typings" />
/** The image fills of a selection: which paints, on which nodes, and what the panel is told about them. */
import { SELECTION_WALK_LIMIT, type SelectionSummary } from '../shared.js';

/** One IMAGE paint of one node, as found in the selection. */
export interface FillTarget {
  nodeId: string;
  nodeName: string;
  nodeType: string;
  paintIndex: number;
  hash: string;
  paint: ImagePaint;
  nodeWidth: number;
  nodeHeight: number;
  /** Where a replace writes (resolved before the run: a style, the main component's node, or the node). */
  write?: WriteTo;
}

/** Where the new image of a replaced fill goes. */
export type WriteTo =
  | { kind: 'node'; id: string; name: string; /** the main component's name when that is where it goes */ via?: string }
  | { kind: 'style'; id: string; name: string };

export type FillsNode = SceneNode & MinimalFillsMixin;

export function hasFills(node: BaseNode): node is FillsNode {
  return 'fills' in node;
}

export interface Collected {
  targets: FillTarget[];
  /** The walk stopped at `limit` layers. */
  capped: boolean;
  /** Image fills left alone because the layer or the paint is hidden. */
  hidden: number;
  /** Layers outside any instance that could not be read (H6): their first error, said to the user. */
  unreadable?: { count: number; name?: string; message: string };
}

/**
 * Every visible IMAGE paint (with an image) on visible layers in `nodes` and their descendants, in document
 * order, each node once; at most `limit` layers are looked at.
 */
export function collectTargets(nodes: readonly SceneNode[], figmaMixed: unknown, limit = Infinity): Collected {
  const out: FillTarget[] = [];
  const seen = new Set<string>();
  let visited = 0,
    hidden = 0,
    capped = false;
  const imagesOf = (node: SceneNode) =>
    hasFills(node) && node.fills !== figmaMixed && Array.isArray(node.fills)
      ? (node.fills as readonly Paint[]).map((p, i) => [p, i] as const).filter(([p]) => p.type === 'IMAGE')
      : [];
  let unreadable: Collected['unreadable'];
  const visit = (node: SceneNode, inInstance: boolean) => {
    if (capped) return;
    try {
      visitNode(node, inInstance);
    } catch (err) {
      // With skipInvisibleInstanceChildren an invisible layer inside an instance (selected in the layers
      // panel) throws on every property read: it is hidden, so it is left alone like the others. Any other
      // error is no hidden layer (H6): it is counted apart and said.
      let instanceChild = inInstance;
      if (!instanceChild) {
        let id: string | undefined;
        try {
          id = String(node.id);
        } catch {
          /* not even its id can be read: the hidden instance child's behaviour */
        }
        instanceChild = id === undefined || id.startsWith('I'); // instance sublayers' ids: "I<instance>;<node>"
        if (!instanceChild)
          try {
            instanceChild = instanceAbove(node) !== undefined;
          } catch {
            /* its parents cannot be read either: not known to be in an instance */
          }
      }
      if (instanceChild) hidden++;
      else {
        let name: string | undefined;
        try {
          name = node.name;
        } catch {
          /* unnamed */
        }
        unreadable ??= { count: 0, name, message: (err as Error)?.message || String(err) };
        unreadable.count++;
      }
    }
  };
  const visitNode = (node: SceneNode, inInstance: boolean) => {
    if (seen.has(node.id)) return;
    if (++visited > limit) {
      capped = true;
      return;
    }
    seen.add(node.id);
    if (node.visible === false) {
      hidden += imagesOf(node).length; // its descendants are not looked at: hidden with it
      return;
    }
    for (const [p, i] of imagesOf(node)) {
      const ip = p as ImagePaint;
      if (!ip.imageHash) continue;
      if (ip.visible === false) {
        hidden++;
        continue;
      }
      out.push({
        nodeId: node.id,
        nodeName: node.name,
        nodeType: node.type,
        paintIndex: i,
        hash: ip.imageHash,
        paint: ip,
        nodeWidth: node.width,
        nodeHeight: node.height,
      });
    }
    const below = inInstance || node.type === 'INSTANCE';
    if ('children' in node) for (const c of node.children) visit(c, below);
  };
  for (const n of nodes) visit(n, false);
  return { targets: out, capped, hidden, ...(unreadable ? { unreadable } : {}) };
}

export function summarize(c: Collected, selected: number): SelectionSummary {
  const { targets } = c;
  const nodes = new Set(targets.map((t) => t.nodeId)).size;
  const images = new Set(targets.map((t) => t.hash)).size;
  let problem: string | undefined;
  if (selected === 0) problem = 'Select a layer with an image fill (or a frame or group that contains some).';
  else if (targets.length === 0 && c.capped)
    problem = `The selection has more than ${SELECTION_WALK_LIMIT} layers and none of the first ones has an image fill. Select the layers with images, or a smaller frame.`;
  else if (targets.length === 0 && c.unreadable)
    problem = `Figma could not read ${c.unreadable.name ? quote(c.unreadable.name) : 'a layer'}${c.unreadable.count > 1 ? ` and ${c.unreadable.count - 1} more` : ''} (${c.unreadable.message}). Select the layers with images again, or reload the file.`;
  else if (targets.length === 0 && c.hidden > 0)
    problem = 'The image fills in the selection are hidden, and Enlarge leaves hidden layers and fills alone.';
  else if (targets.length === 0)
    problem =
      'The selection has no image fills. Select a layer filled with an image, or a frame or group that contains one.';
  const s: SelectionSummary = { nodes, fills: targets.length, images, problem, firstName: targets[0]?.nodeName };
  if (c.capped) s.capped = true;
  return s;
}

export const quote = (name: string) => `“${name}”`;

export function labelFor(targets: FillTarget[]): string {
  const names = [...new Set(targets.map((t) => t.nodeName))];
  return names.length === 1 ? names[0]! : `${names[0]} (+${names.length - 1} more)`;
}

/** The page a node is on (walks up the parents). */
export function pageOf(node: BaseNode): PageNode | undefined {
  let n: BaseNode | null = node;
  while (n && n.type !== 'PAGE') n = n.parent;
  return (n as PageNode | null) ?? undefined;
}

/** The innermost instance `node` is inside (not counting node itself), if any. */
export function instanceAbove(node: BaseNode): InstanceNode | undefined {
  for (let n = node.parent; n && n.type !== 'PAGE'; n = n.parent) if (n.type === 'INSTANCE') return n;
  return undefined;
}

/** Starts the plugin: `html` is the UI (Figma's `__html__`), `catalog` the models and presets the UI carries. */
export function animatedGifMessage(name: string): string {
  return `The image of ${quote(name)} is an animated GIF. Enlarge would keep only its first frame and stop the animation, so it leaves animated GIFs alone. Nothing was changed.`;
}
