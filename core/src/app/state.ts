/** The web page's state (./app.ts): the chosen files, the catalog, the settings, the run in progress. */
import type { PixelImage } from '../image.js';
import type { Catalog } from '../models.js';
import type { IccProfile, ImageFileType } from '../web/image-files.js';
import type { WebSettings } from './files.js';

/** Everything the page knows about one chosen file. */
export interface Item {
  id: number;
  name: string;
  type: ImageFileType;
  image?: PixelImage;
  icc?: IccProfile;
  error?: string;
  result?: { name: string; bytes: Uint8Array; url: string };
  li: HTMLLIElement;
}

export const state = {
  items: [] as Item[],
  nextId: 1,
  catalog: undefined as Catalog | undefined,
  settings: undefined as unknown as WebSettings,
  running: undefined as { cancelled: boolean } | undefined,
};
