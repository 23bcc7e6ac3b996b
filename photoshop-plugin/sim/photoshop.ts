/**
 * A simulator of the parts of Photoshop's UXP `photoshop` module the plugin uses, for Node tests.
 * Behaviour follows Adobe's reference pages (developer.adobe.com/photoshop/uxp/2022/ps-reference/…) and
 * the @types/photoshop 25.0.4 declarations it is typed against; where a page is silent the choice is noted.
 *
 *   app.activeDocument / documents / showAlert              classes/photoshop
 *   Document: id, title, mode, bitsPerChannel, width, height, resolution, layers, activeLayers,
 *             selection.bounds (25.0; null = no selection), resizeImage, createLayer     classes/document, classes/selection
 *   Layer: id, name, kind, bounds / boundsNoEffects (trimmed to non-transparent pixels), isBackgroundLayer,
 *          allLocked / pixelsLocked / …, blendMode, opacity, move                           classes/layer
 *   core.executeAsModal(fn, { commandName }) → fn(executionContext): isCancelled, onCancel, reportProgress,
 *          hostControl.suspendHistory / resumeHistory(id, commit)                          media/executeasmodal,
 *          (commit false: "the document returns to the state when suspendHistory was invoked")  objects/options/executioncontext
 *   imaging.getPixels → { imageData, sourceBounds, level }: sourceBounds "trimmed to only that region that contains
 *          pixel data"; components 4 (RGBA) for layers with transparency, 3 for the background layer;
 *          imageData.getData({ chunky, fullRange }): 16-bit data in Photoshop's 0..32768 range unless fullRange;
 *          imageData.dispose() frees the buffer                                             media/imaging
 *   imaging.createImageDataFromBuffer(typed array, { width, height, components, chunky, colorSpace, colorProfile, fullRange })
 *   imaging.putPixels({ documentID, layerID, imageData, replace, targetBounds, commandName }): replace (default
 *          true) clears the layer first; pixels go at targetBounds.left/top                media/imaging
 *
 *   Layer.isClippingMask / fillOpacity (R W, 23.0; writes need a modal scope), createLayer({ group }) ("Whether to
 *          use previous layer to create clipping mask")         classes/layer, objects/createoptions/pixellayercreateoptions
 *   imaging.getSelection / getLayerMask / putLayerMask: one-component gray image data; putLayerMask "must be image
 *          data with a single component using the grayscale color model", replace true "discards" the mask before
 *          "creating a new mask", false places data "into the existing mask"                 media/imaging
 *   Document.selection.solid (25.0): "True if the selection itself is a rectangle with all fully selected pixels"
 *   action.batchPlay "get" of a layer's hasUserMask / userMaskEnabled / hasVectorMask; anything else answers an error descriptor
 *          ({ _obj: "error", message, result }) as batchPlay does for a failed command      media/batchplay
 * Undocumented, chosen strict: a new mask is black (hidden) outside what putLayerMask wrote; putLayerMask with
 * replace false on a layer without a mask, getLayerMask on a layer without one, getSelection without a selection
 * throw; getSelection's image data has the document's bit depth.
 *
 * Simplifications (documented): resizeImage resamples layers nearest-neighbour (Photoshop's bicubic only changes
 * the other layers' looks, not what the plugin does); no colour conversion between RGB profiles (getPixels must
 * ask for the document's colour space); CMYK and Lab documents convert only to and from "Adobe RGB (1998)", and
 * image data must carry a profile of its kind (./color.ts: masks gray, real-host-2 G2); every DOM change outside a history suspension adds one history state.
 * Accounting: bytes of live imaging buffers (created, not yet disposed) and their peak, for the memory bench.
 */

import {} from './photoshop/document.js';
import { createImaging } from './photoshop/imaging.js';
import { createCore } from './photoshop/modal.js';
import { SimState } from './photoshop/state.js';
import { constants } from './photoshop/types.js';

export { SimDocument, SimLayer } from './photoshop/document.js';
export { SimImageData } from './photoshop/image-data.js';
export {
  constants,
  type Bits,
  type Kind,
  type Mode,
  type ModalRecord,
  type Rect,
  type SimOptions,
} from './photoshop/types.js';

/** The simulator: its state (photoshop/state.ts) and the `photoshop` module built over it. */
export class PhotoshopSim extends SimState {
  readonly app = (() => {
    const sim = this;
    // DOM getters run synchronous batchPlay (media/batchplay), and "APIs such as batchPlay will raise an
    // exception if they are invoked … after the user has cancelled" (media/executeasmodal): so do these (G6).
    const live = (what: string) => {
      if ((sim.modal as { isCancelled?: boolean } | undefined)?.isCancelled)
        throw new Error(`app.${what}: the user cancelled the operation`);
    };
    return {
      get activeDocument() {
        live('activeDocument');
        return sim.activeDocument;
      },
      get documents() {
        live('documents');
        return sim.documents;
      },
      async showAlert(message: string) {
        sim.alerts.push(message);
      },
    };
  })();

  readonly core = createCore(this);

  readonly imaging = createImaging(this);

  /** The `photoshop` module object the plugin's `require('photoshop')` gets. */
  module(): Record<string, unknown> {
    const listeners = this.notificationListeners;
    return {
      app: this.app,
      core: this.core,
      imaging: this.imaging,
      constants,
      action: {
        batchPlay: this.batchPlay,
        // action.addNotificationListener(events, notifier) / removeNotificationListener (media/photoshopaction).
        async addNotificationListener(events: string[], fn: (event: string, descriptor: object) => void) {
          for (const e of events) listeners.push({ event: e, fn });
        },
        async removeNotificationListener(events: string[], fn: (event: string, descriptor: object) => void) {
          for (let i = listeners.length - 1; i >= 0; i--)
            if (listeners[i]!.fn === fn && events.includes(listeners[i]!.event)) listeners.splice(i, 1);
        },
      },
    };
  }

  readonly notificationListeners: { event: string; fn: (event: string, descriptor: object) => void }[] = [];
  /** Photoshop reports an event to the plugins that listen to it (test helper: the user selected, opened, …). */
  notify(event: string, descriptor: object = {}): void {
    for (const l of [...this.notificationListeners]) if (l.event === event) l.fn(event, descriptor);
  }

  /**
   * batchPlay(descriptors, options): one result per descriptor, failed ones as { _obj: "error", message, result }
   * (media/batchplay). Only "get" of a layer's hasUserMask / userMaskEnabled is simulated.
   */
  readonly batchPlay = async (descriptors: Record<string, unknown>[], _options: object = {}) => {
    const fail = (message: string) => ({ _obj: 'error', message, result: -25920 });
    return descriptors.map((d) => {
      const target = (d['_target'] ?? []) as { _property?: string; _ref?: string; _id?: number }[];
      const prop = target.find((t) => t._property)?._property;
      const layerRef = target.find((t) => t._ref === 'layer');
      const docRef = target.find((t) => t._ref === 'document');
      if (d['_obj'] !== 'get' || !prop || !layerRef?._id) return fail('The command is not simulated.');
      const doc = docRef?._id !== undefined ? this.documents.find((x) => x.id === docRef._id) : this.activeDocument;
      const layer = doc?.layerList.find((l) => l.id === layerRef._id);
      if (!layer) return fail('The object “layer” is not currently available.');
      if (prop === 'hasUserMask') return { hasUserMask: !!layer.userMask };
      if (prop === 'hasVectorMask') return { hasVectorMask: layer.vectorMask };
      if (prop === 'userMaskEnabled')
        return layer.userMask ? { userMaskEnabled: layer.userMaskEnabled } : fail('The property is not available.');
      return fail(`The property ${prop} is not simulated.`);
    });
  };
}
