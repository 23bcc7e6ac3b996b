/**
 * The engine a menu command runs on when the panel (and its webview) is closed — commands get the fast path too.
 *
 * On UXP 8+ (Photoshop 26+) the command opens a small progress dialog that hosts the engine webview, before
 * `executeAsModal`:
 *   - webviews live in panels and in modal dialogs ("WebViews are available within modal dialogs",
 *     guides/uxp-guide/uxp-misc/manifest-v5; local `plugin:` content needs UXP 8.0, html-web-view-element.md);
 *   - a plugin that is loaded for a command has no panel ("The plugin is loaded when needed (when its UI become
 *     visible, or when a plugin command is executed)", manifest-v4/photoshop-manifest), so without a dialog a
 *     command would always run WASM inside UXP;
 *   - "The progress bar is hidden while modal UI is shown" (ps-reference/media/executeasmodal.md): the dialog shows
 *     the progress and a Cancel button itself. Closing it (Esc, its close box) cancels: `showModal()` "can be
 *     rejected if the dialog was closed for other reasons e.g. the user hit escape or closed the window"
 *     (html-dialog-element.md). The dialog must be in the DOM (REJECTION_REASON_DETACHED).
 *   - `showModal()` is also rejected "if the application does not allow showing the dialog": its `error.code` is
 *     then the dialog's REJECTION_REASON_NOT_ALLOWED ("the application does not allow showing dialogs (e.g. only
 *     one dialog is allowed)") or REJECTION_REASON_DETACHED (html-dialog-element.md). That is no cancel: the
 *     command runs without the dialog, WASM in UXP (real-host-2 G3).
 *   - A webview that did not start (no 'ready' within `readyMs`, or its page failed to load) is remembered for
 *     the session: later commands go straight to WASM in UXP instead of waiting again (G5).
 * `showModal()` is not awaited: it resolves only when the dialog closes. No `lockDocumentFocus` (a Photoshop-only
 * option that locks the UI, ps-reference/known-issues): executeAsModal holds the modal state.
 *
 * When the webview does not say 'ready' within `readyMs`, or the host has no local webviews (UXP 7), the dialog is
 * closed and the command runs WASM inside UXP under Photoshop's own progress bar (which, unlike a dialog drawn by
 * the plugin, repaints while a WASM tile keeps the plugin's thread busy).
 */
import { AbortError, type Catalog } from '@enlarge/core';
import type { EngineClient } from '@enlarge/core/page';
import { labelled, webviewTimeouts, type ChosenEngine } from './engines.js';
import { startWebviewEngine, webviewSupported } from './webview.js';
import type { RunStatus } from './upscale.js';

export interface CommandEngine {
  engine: ChosenEngine;
  /** Aborted when the user cancels in the dialog (its button, Esc, or closing it). */
  signal: AbortSignal;
  onStatus(s: RunStatus): void;
  close(): void;
}

interface UxpDialog extends HTMLElement {
  showModal(): Promise<unknown>;
  close(returnValue?: unknown): void;
  open?: boolean;
  readonly REJECTION_REASON_NOT_ALLOWED?: unknown;
  readonly REJECTION_REASON_DETACHED?: unknown;
}

/** Whether a `showModal()` rejection is the host refusing the dialog (not the user closing it). */
function refusedByHost(dialog: UxpDialog, err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code !== undefined && (code === dialog.REJECTION_REASON_NOT_ALLOWED || code === dialog.REJECTION_REASON_DETACHED)
  );
}

class DialogRefusedError extends Error {}

/** Set once a command's webview did not start: this session's later commands do not wait for one again. */
let webviewFailed = false;

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/**
 * Opens the progress dialog with the engine webview and waits for its page. Undefined when the host has no local
 * webviews, the webview did not start (the dialog is closed again), or the user cancelled while it started
 * (then `cancelled` is set and the command does nothing).
 */
export async function openCommandEngine(
  catalog: Catalog,
  commandName: string,
): Promise<{ engine?: CommandEngine; cancelled?: boolean }> {
  if (!webviewSupported() || !document.body || webviewFailed) return {};
  const abort = new AbortController();
  const dialog = el('dialog', { id: 'enlarge-command', style: 'width: 320px; padding: 16px;' }) as UxpDialog;
  dialog.appendChild(el('div', { style: 'font-weight: bold; margin-bottom: 8px;' }, commandName));
  const status = el('div', { id: 'enlarge-command-status', style: 'margin-bottom: 8px;' }, 'Starting the engine…');
  dialog.appendChild(status);
  const bar = el('div', { style: 'height: 4px; background: #444; margin-bottom: 12px;' });
  const fill = el('div', { id: 'enlarge-command-fill', style: 'height: 4px; width: 0%; background: #378ef0;' });
  bar.appendChild(fill);
  dialog.appendChild(bar);
  const cancel = el('button', { id: 'enlarge-command-cancel', type: 'button' }, 'Cancel');
  cancel.addEventListener('click', () => abort.abort());
  dialog.appendChild(cancel);
  document.body.appendChild(dialog);

  let client: EngineClient | undefined;
  let webview: HTMLElement | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    if (client) void client.dispose();
    webview?.remove();
    try {
      dialog.close();
    } catch {
      /* already closed by the user */
    }
    dialog.remove();
  };
  // The dialog closed by the user (Esc, close box) is a cancel; closed by us (close()) it is not; refused by
  // Photoshop it is neither: the command runs without it.
  let refuse: (err: Error) => void = () => undefined;
  const refused = new Promise<never>((_, reject) => (refuse = reject));
  refused.catch(() => undefined);
  dialog.showModal().then(
    () => {
      if (!closed) abort.abort();
    },
    (err: unknown) => {
      if (closed) return;
      if (refusedByHost(dialog, err)) refuse(new DialogRefusedError());
      else abort.abort();
    },
  );
  const t = webviewTimeouts();
  // A refusal comes back at once: no webview is started for a dialog Photoshop did not show.
  const refusedNow = await Promise.race([
    refused.then(
      () => false,
      () => true,
    ),
    new Promise<boolean>((ok) => setTimeout(() => ok(false), 0)),
  ]);
  if (refusedNow) {
    close();
    return {};
  }
  try {
    const started = startWebviewEngine(dialog, catalog, t);
    client = started.client;
    webview = started.element;
    const loadError = new Promise<never>((_, reject) =>
      webview!.addEventListener('loaderror', () => reject(new Error('The engine page could not load.'))),
    );
    const cancelled = new Promise<never>((_, reject) =>
      abort.signal.addEventListener('abort', () => reject(new AbortError())),
    );
    loadError.catch(() => undefined);
    cancelled.catch(() => undefined);
    await Promise.race([client.ready(t.readyMs), loadError, cancelled, refused]);
  } catch (err) {
    close();
    if (err instanceof AbortError || abort.signal.aborted) return { cancelled: true };
    if (!(err instanceof DialogRefusedError)) webviewFailed = true;
    return {};
  }
  status.textContent = 'Reading the layer…';
  const engine = labelled(catalog, 'webview', client);
  return {
    engine: {
      engine,
      signal: abort.signal,
      onStatus(s) {
        fill.style.width = `${Math.round(s.fraction * 100)}%`;
        const tiles = s.progress ? ` — tile ${s.progress.tilesDone}/${s.progress.tilesTotal}` : '';
        status.textContent =
          s.phase === 'reading'
            ? 'Reading the layer…'
            : s.phase === 'done'
              ? 'Done'
              : `Upscaling on ${s.backend ?? 'the engine'}${tiles}`;
      },
      close,
    },
  };
}
