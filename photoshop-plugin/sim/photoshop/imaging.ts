/** imaging: getPixels / putPixels / createImageDataFromBuffer / getSelection / layer masks (media/imaging). */
import sharp from 'sharp';
import { SimImageData } from './image-data.js';
import type { SimState } from './state.js';
import { blit, contains, intersect, union, type Imaging, type Pixels, type Raster, type Rect } from './types.js';
import { checkDataProfile, DOC_PROFILE, isPrintMode, PRINT_RGB, storeThroughMode } from '../color.js';

export function createImaging(sim: SimState) {
  return {
    getPixels: async (o: Imaging.GetPixelsOptions): Promise<Imaging.GetPixelsResult> => {
      // An injected failure (tests, G7): "not currently available", out of memory.
      const fail = sim.failGetPixels;
      if (fail && fail.times > 0) {
        fail.times--;
        throw new Error(fail.message);
      }
      const doc = sim.doc(o.documentID);
      if (o.layerID === undefined) throw new Error('The simulator serves layer pixels only (give layerID).');
      const layer = sim.layer(doc, o.layerID);
      if (layer.kind !== 'pixel') throw new Error(`getPixels: layer ${layer.id} is not a pixel layer`);
      if (doc.depth === 32) throw new Error('getPixels: 32-bit documents are not simulated');
      const space = doc.mode === 'grayscaleMode' ? 'Grayscale' : 'RGB';
      // CMYK and Lab documents answer RGB only through a conversion the plugin asks for (../color.ts).
      if (isPrintMode(doc.mode) && (o.colorSpace !== 'RGB' || o.colorProfile !== PRINT_RGB))
        throw new Error(
          `getPixels: a ${doc.mode} document is read as RGB only with colorSpace "RGB" and colorProfile "${PRINT_RGB}" in the simulator (asked ${o.colorSpace ?? 'nothing'}, ${o.colorProfile ?? 'no profile'})`,
        );
      if (!isPrintMode(doc.mode) && o.colorProfile && o.colorProfile !== DOC_PROFILE[doc.mode])
        throw new Error(`getPixels: the simulator does not convert between profiles (asked ${o.colorProfile})`);
      if (o.colorSpace && o.colorSpace !== space)
        throw new Error(
          `getPixels: the simulator does not convert colours (asked ${o.colorSpace}, document is ${space})`,
        );
      if (o.targetSize) throw new Error('getPixels: targetSize (scaling) is not simulated');
      const size = o.componentSize === undefined || o.componentSize === -1 ? doc.depth : o.componentSize;
      if (size !== doc.depth) throw new Error('getPixels: the simulator does not convert bit depths');
      const lb = layer.bounds;
      const req = o.sourceBounds ?? lb;
      const b = {
        left: Math.max(req.left, lb.left),
        top: Math.max(req.top, lb.top),
        right: Math.min(req.right, lb.right),
        bottom: Math.min(req.bottom, lb.bottom),
      };
      // An area without pixels: undocumented ("the returned sourceBounds will reflect this smaller region"), so the
      // simulator either throws an unspecific error or answers an empty area (noPixels); the plugin copes with both.
      if (b.right <= b.left || b.bottom <= b.top || !layer.raster) {
        if (sim.noPixels === 'throw') throw new Error('The command "Get Pixels" is not currently available.');
        const empty = new SimImageData(
          sim,
          0,
          0,
          layer.isBackgroundLayer ? doc.alphaIndex : doc.alphaIndex + 1,
          doc.depth,
          space,
          doc.depth === 16 ? new Uint16Array(0) : new Uint8Array(0),
          '',
        );
        return {
          imageData: empty,
          sourceBounds: { left: req.left, top: req.top, right: req.left, bottom: req.top },
          level: 0,
        };
      }
      const r = layer.raster;
      const c = doc.alphaIndex + 1;
      const outC = layer.isBackgroundLayer ? c - 1 : c;
      const w = b.right - b.left,
        h = b.bottom - b.top,
        rw = r.rect.right - r.rect.left;
      const out = doc.depth === 16 ? new Uint16Array(w * h * outC) : new Uint8Array(w * h * outC);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const si = ((b.top - r.rect.top + y) * rw + (b.left - r.rect.left + x)) * c,
            di = (y * w + x) * outC;
          for (let k = 0; k < outC; k++) out[di + k] = r.data[si + k]!;
        }
      }
      const imageData = new SimImageData(
        sim,
        w,
        h,
        outC,
        doc.depth,
        space,
        out,
        isPrintMode(doc.mode) ? PRINT_RGB : DOC_PROFILE[doc.mode]!,
      );
      return { imageData, sourceBounds: b, level: 0 };
    },

    /** getSelection({ documentID, sourceBounds }): the selection as one gray component (255 = selected). */
    getSelection: async (o: { documentID?: number; sourceBounds?: Rect }) => {
      const doc = sim.doc(o.documentID);
      const sel = doc.selection;
      if (!sel.bounds) throw new Error('getSelection: there is no selection');
      const req = o.sourceBounds ?? sel.bounds;
      const b = intersect(req, { left: 0, top: 0, right: doc.width, bottom: doc.height });
      const w = Math.max(0, b.right - b.left),
        h = Math.max(0, b.bottom - b.top);
      const max = doc.depth === 16 ? 65535 : 255;
      const out = doc.depth === 16 ? new Uint16Array(w * h) : new Uint8Array(w * h);
      const sb = sel.bounds,
        sw = sb.right - sb.left;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const X = b.left + x,
            Y = b.top + y;
          if (X < sb.left || X >= sb.right || Y < sb.top || Y >= sb.bottom) continue;
          const v = sel.pixels ? sel.pixels[(Y - sb.top) * sw + (X - sb.left)]! : 255;
          out[y * w + x] = Math.round((v * max) / 255);
        }
      return { imageData: new SimImageData(sim, w, h, 1, doc.depth as 8 | 16, 'Grayscale', out, ''), sourceBounds: b };
    },

    /** getLayerMask({ documentID, layerID, kind, sourceBounds }): the user mask as one gray component. */
    getLayerMask: async (o: { documentID?: number; layerID: number; kind?: string; sourceBounds?: Rect }) => {
      const doc = sim.doc(o.documentID);
      const layer = sim.layer(doc, o.layerID);
      if ((o.kind ?? 'user') !== 'user') throw new Error('getLayerMask: only user masks are simulated');
      const m = layer.userMask;
      if (!m) throw new Error('The command "Get Layer Mask" is not currently available.');
      const canvas = { left: 0, top: 0, right: doc.width, bottom: doc.height };
      const b =
        sim.maskOutside === 'fill'
          ? intersect(o.sourceBounds ?? canvas, canvas)
          : intersect(o.sourceBounds ?? m.rect, m.rect);
      const w = Math.max(0, b.right - b.left),
        h = Math.max(0, b.bottom - b.top),
        mw = m.rect.right - m.rect.left;
      const outside = doc.depth === 16 ? layer.userMaskDefault * 257 : layer.userMaskDefault;
      const out = new (m.data.constructor as Uint8ArrayConstructor)(w * h);
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          const X = b.left + x,
            Y = b.top + y;
          const inside = X >= m.rect.left && X < m.rect.right && Y >= m.rect.top && Y < m.rect.bottom;
          out[y * w + x] = inside ? m.data[(Y - m.rect.top) * mw + (X - m.rect.left)]! : outside;
        }
      return {
        imageData: new SimImageData(sim, w, h, 1, doc.depth as 8 | 16, 'Grayscale', out, ''),
        sourceBounds: b,
      };
    },

    /** putLayerMask({ documentID, layerID, kind, imageData, replace, targetBounds, commandName }). */
    putLayerMask: async (o: {
      documentID?: number;
      layerID: number;
      kind?: string;
      imageData: Imaging.ImageData;
      replace?: boolean;
      targetBounds?: { left: number; top: number };
      commandName?: string;
    }) => {
      const doc = sim.doc(o.documentID);
      doc.requireModal('putLayerMask');
      const layer = sim.layer(doc, o.layerID);
      if ((o.kind ?? 'user') !== 'user') throw new Error('putLayerMask: "Only "user" is accepted at this time."');
      const img = o.imageData as SimImageData;
      if (img.components !== 1 || img.colorSpace !== 'Grayscale')
        throw new Error('putLayerMask: the image data must have a single component using the grayscale color model');
      checkDataProfile('putLayerMask', doc.mode, 'Grayscale', img.colorProfile);
      if (img.componentSize !== doc.depth)
        throw new Error(`putLayerMask: ${img.componentSize}-bit data into a ${doc.depth}-bit document`);
      const replace = o.replace ?? true;
      if (!replace && !layer.userMask) throw new Error('putLayerMask: the layer has no mask to add to');
      if (replace) {
        // A new mask: black (hidden) wherever nothing was written (undocumented; the strict choice).
        const rect = { left: 0, top: 0, right: doc.width, bottom: doc.height };
        layer.userMask = {
          rect,
          data: doc.depth === 16 ? new Uint16Array(doc.width * doc.height) : new Uint8Array(doc.width * doc.height),
        };
        layer.userMaskEnabled = true;
      }
      const m = layer.userMask!,
        mw = m.rect.right - m.rect.left;
      const src = img.pixels();
      const tb = o.targetBounds ?? { left: 0, top: 0 };
      for (let y = 0; y < img.height; y++)
        for (let x = 0; x < img.width; x++) {
          const X = tb.left + x - m.rect.left,
            Y = tb.top + y - m.rect.top;
          if (X < 0 || Y < 0 || X >= mw || Y >= m.rect.bottom - m.rect.top) continue;
          m.data[Y * mw + X] = src[y * img.width + x]!;
        }
      doc.changed(o.commandName ?? 'Layer Mask');
    },

    /**
     * encodeImageData({ imageData, base64 }): "you must use jpeg/base64 encoding when assigning to an image element"
     * (media/imaging, 24.4). The simulator encodes 8-bit RGB with sharp (real JPEG) and refuses other inputs, as the
     * API "expects RGB".
     */
    encodeImageData: async (o: { imageData: Imaging.ImageData; base64?: boolean }): Promise<number[] | string> => {
      const img = o.imageData as SimImageData;
      if (img.componentSize !== 8 || img.components !== 3 || img.colorSpace !== 'RGB')
        throw new Error('encodeImageData: the simulator encodes 8-bit RGB image data only');
      const jpeg = await sharp(Buffer.from(img.pixels() as Uint8Array), {
        raw: { width: img.width, height: img.height, channels: 3 },
      })
        .jpeg({ quality: 90 })
        .toBuffer();
      return o.base64 ? jpeg.toString('base64') : [...jpeg];
    },

    createImageDataFromBuffer: async (
      buffer: Uint8Array | Uint16Array | Float32Array,
      o: Imaging.CreateImageDataFromBufferOptions,
    ): Promise<Imaging.ImageData> => {
      // The kind of typed array by its tag, not instanceof: the bundle may run in a realm of its own (strict loader).
      const kind = Object.prototype.toString.call(buffer);
      if (kind === '[object Float32Array]') throw new Error('32-bit image data is not simulated');
      if (buffer.length !== o.width * o.height * o.components)
        throw new Error(
          `createImageDataFromBuffer: ${buffer.length} elements, expected width*height*components = ${o.width * o.height * o.components}`,
        );
      if (o.chunky === false) throw new Error('planar input is not simulated');
      const size = kind === '[object Uint16Array]' ? 16 : 8;
      let data: Pixels = size === 16 ? Uint16Array.from(buffer as Uint16Array) : Uint8Array.from(buffer as Uint8Array);
      if (size === 16 && !o.fullRange)
        data = (data as Uint16Array).map((v) => Math.min(65535, Math.round((v * 65535) / 32768)));
      return new SimImageData(
        sim,
        o.width,
        o.height,
        o.components,
        size,
        o.colorSpace as Imaging.ColorSpace,
        data,
        o.colorProfile ?? '',
      );
    },

    putPixels: async (o: Imaging.PutPixelsOptions): Promise<void> => {
      const doc = sim.doc(o.documentID);
      doc.requireModal('putPixels');
      const layer = sim.layer(doc, o.layerID);
      if (layer.kind !== 'pixel') throw new Error('putPixels: not a pixel layer');
      if (layer.allLocked || layer.pixelsLocked) throw new Error('putPixels: the layer is locked');
      const img = o.imageData as SimImageData;
      const space = doc.mode === 'grayscaleMode' ? 'Grayscale' : 'RGB';
      if (img.colorSpace !== space)
        throw new Error(`putPixels: image data is ${img.colorSpace}, the document ${space} (no conversion simulated)`);
      checkDataProfile('putPixels', doc.mode, img.colorSpace, img.colorProfile);
      if (img.componentSize !== doc.depth)
        throw new Error(`putPixels: ${img.componentSize}-bit data into a ${doc.depth}-bit document`);
      const src = img.pixels();
      const tb = o.targetBounds ?? { left: 0, top: 0 };
      const left = tb.left,
        top = tb.top;
      const c = doc.alphaIndex + 1,
        sc = img.components;
      const max = doc.depth === 16 ? 65535 : 255;
      layer.writes++;
      if (sim.options.storePixels === false) {
        doc.changed(o.commandName ?? 'Put Pixels');
        return;
      }
      const rect = { left, top, right: left + img.width, bottom: top + img.height };
      const replace = o.replace ?? true;
      if (replace || !layer.raster) {
        const base = replace ? undefined : layer.raster;
        layer.raster = {
          rect: base ? union(base.rect, rect) : rect,
          data: new (src.constructor as Uint8ArrayConstructor)((rect.right - rect.left) * (rect.bottom - rect.top) * c),
        };
        if (base) blit(base, layer.raster, c);
      } else if (!contains(layer.raster.rect, rect)) {
        const grown: Raster = {
          rect: union(layer.raster.rect, rect),
          data: new (src.constructor as Uint8ArrayConstructor)(0),
        };
        grown.data = new (src.constructor as Uint8ArrayConstructor)(
          (grown.rect.right - grown.rect.left) * (grown.rect.bottom - grown.rect.top) * c,
        );
        blit(layer.raster, grown, c);
        layer.raster = grown;
      }
      const r = layer.raster;
      const rw = r.rect.right - r.rect.left;
      for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
          const di = ((top - r.rect.top + y) * rw + (left - r.rect.left + x)) * c,
            si = (y * img.width + x) * sc;
          for (let k = 0; k < c - 1; k++) r.data[di + k] = src[si + k]!;
          r.data[di + c - 1] = sc === c ? src[si + c - 1]! : max;
        }
        // CMYK and Lab documents store the row in their mode, at their depth (../color.ts).
        if (isPrintMode(doc.mode)) {
          const di = ((top - r.rect.top + y) * rw + (left - r.rect.left)) * c;
          storeThroughMode(doc.mode, doc.depth as 8 | 16, r.data.subarray(di, di + img.width * c), c);
        }
      }
      doc.changed(o.commandName ?? 'Put Pixels');
    },
  };
}
