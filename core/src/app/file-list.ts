/** The web page's list of chosen files: reading them, what each will become (or why not), and the buttons. */
import { describeError } from '../errors.js';
import type { PixelImage } from '../image.js';
import { tilePolicy } from '../tiling.js';
import { planJob } from '../upscale/plan.js';
import { DEFAULT_LIMITS } from '../upscale/request.js';
import type { UpscaleOptions } from '../upscale/types.js';
import { decodeImage, iccProfile, sniffType } from '../web/image-files.js';
import { factorFor } from './files.js';
import { WEB_TILES } from './shared.js';
import { $, say } from './dom.js';
import { options } from './settings-form.js';
import { state, type Item } from './state.js';

export function sizeLabel(o: UpscaleOptions, img: PixelImage): string {
  return o.scale
    ? `${o.scale}x`
    : `${o.width ?? Math.round((img.width * o.height!) / img.height)}x${o.height ?? Math.round((img.height * o.width!) / img.width)}`;
}

/** What is wrong with this item for the current settings, in one sentence (planJob's rule), or undefined. */
function problem(item: Item): string | undefined {
  if (item.error) return item.error;
  const o = options();
  if (!item.image || !o) return undefined;
  try {
    const plan = planJob(
      {
        width: item.image.width,
        height: item.image.height,
        channels: item.image.channels,
        bitDepth: item.image.bitDepth,
      },
      o,
      state.catalog!,
      {
        limits: DEFAULT_LIMITS,
        tiles: tilePolicy(WEB_TILES),
      },
    );
    if (plan.tooLarge) return describeError(plan.tooLarge, 'web').message;
  } catch (err) {
    return describeError(err, 'web').message;
  }
  return undefined;
}

export function refreshStatuses(): void {
  for (const item of state.items) if (!item.result) renderItem(item);
}

export function renderItem(item: Item, status?: string): void {
  const li = item.li;
  li.replaceChildren();
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = item.name;
  const st = document.createElement('span');
  st.className = 'status';
  const p = problem(item);
  li.classList.toggle('failed', !!p && !item.result);
  if (status) st.textContent = status;
  else if (p) st.textContent = p;
  else if (item.image) {
    const o = options();
    const dims = `${item.image.width} × ${item.image.height}${item.image.bitDepth === 16 ? ', 16-bit' : ''}${item.image.channels === 2 || item.image.channels === 4 ? ', transparent' : ''}`;
    if (item.result) st.textContent = `${dims} → done`;
    else if (o) {
      const f = factorFor(o, item.image.width, item.image.height);
      const w =
        o.width ?? Math.round(o.height ? (item.image.width * o.height) / item.image.height : item.image.width * f);
      const h =
        o.height ?? Math.round(o.width ? (item.image.height * o.width) / item.image.width : item.image.height * f);
      st.textContent = `${dims} → ${w} × ${h}`;
    } else st.textContent = dims;
  } else st.textContent = 'Reading…';
  li.append(name, st);
  if (item.result) {
    const a = document.createElement('a');
    a.className = 'download';
    a.href = item.result.url;
    a.download = item.result.name;
    a.textContent = `Download ${item.result.name}`;
    li.append(a);
  }
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.className = 'remove';
  remove.textContent = 'Remove';
  remove.setAttribute('aria-label', `Remove ${item.name}`);
  remove.disabled = !!state.running;
  remove.addEventListener('click', () => removeItem(item));
  li.append(remove);
}

function removeItem(item: Item): void {
  const i = state.items.indexOf(item);
  if (i < 0) return;
  state.items.splice(i, 1);
  if (item.result) URL.revokeObjectURL(item.result.url);
  item.li.remove();
  updateButtons();
  $<HTMLButtonElement>('pick').focus();
}

export async function addFiles(files: Iterable<File>): Promise<void> {
  say('');
  const added: Promise<void>[] = [];
  for (const file of files) {
    const li = document.createElement('li');
    const item: Item = { id: state.nextId++, name: file.name || 'pasted-image.png', type: 'unknown', li };
    state.items.push(item);
    $('files').append(li);
    renderItem(item);
    added.push(
      (async () => {
        try {
          const bytes = new Uint8Array(await file.arrayBuffer());
          item.type = sniffType(bytes);
          // Whatever the sniffer does not know (AVIF variants) is offered to the browser, which reads the bytes.
          item.image = await decodeImage(bytes);
          item.icc = iccProfile(bytes);
        } catch (err) {
          item.error = describeError(err, 'web').message;
        }
        renderItem(item);
      })(),
    );
  }
  updateButtons();
  await Promise.all(added);
  updateButtons();
}

export function runnable(): Item[] {
  return state.items.filter((i) => i.image && !problem(i));
}

export function updateButtons(): void {
  const ready = document.body.dataset['ready'] === 'true';
  const can = ready && !state.running && runnable().length > 0 && !!options();
  $<HTMLButtonElement>('run').disabled = !can;
  $<HTMLButtonElement>('preview').disabled = !can;
  $('cancel').hidden = !state.running;
  const done = state.items.filter((i) => i.result);
  $('download-all').hidden = state.running !== undefined || done.length < 2;
  $<HTMLButtonElement>('pick').disabled = !!state.running;
  document.body.dataset['busy'] = state.running ? 'true' : 'false';
}
