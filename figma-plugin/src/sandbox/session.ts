/// <reference types="@figma/plugin-typings" />
/** What the parts of the sandbox share for as long as the plugin is open. */
import type { Catalog } from '@enlarge/core';
import type { SandboxToUi, SelectionSummary, UiToSandbox } from '../shared.js';

/** The relaunch button's command (manifest relaunchButtons). */
export const RELAUNCH_COMMAND = 'open';

export interface RunState {
  runId: number;
  /** Why the run stopped (cancel, close): checked after every await. */
  stopped?: string;
  /** The image the UI is working on. */
  pending?: { index: number; resolve: (m: UiToSandbox) => void; reject: (e: Error) => void };
}

export interface Session {
  figma: PluginAPI;
  catalog: Catalog;
  /** Started from a menu command with a hidden panel: notifications and closePlugin instead of the panel. */
  quick: boolean;
  closed: boolean;
  runSeq: number;
  current?: RunState;
  post(m: SandboxToUi): void;
  /** Progress for a hidden panel (a notification with Cancel); nothing with the panel shown. */
  progress(text: string): void;
  selectionSummary(): SelectionSummary;
  /**
   * Menu commands (H4): the layers selected when the command started, which the run enlarges even if the
   * selection changes while the hidden panel loads. Undefined with the panel: a run takes the selection then.
   */
  selection?: () => readonly SceneNode[];
}
