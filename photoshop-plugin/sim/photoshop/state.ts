import { SimDocument, type SimLayer } from './document.js';
import type { ExecutionContext, ModalRecord, SimOptions } from './types.js';

/** The simulator's state: documents, modal scopes, alerts, imaging accounting. */
export class SimState {
  readonly documents: SimDocument[] = [];
  activeDocument: SimDocument | null = null;
  readonly alerts: string[] = [];
  readonly modals: ModalRecord[] = [];
  modal: ExecutionContext | undefined;
  /** Another plugin's modal scope is running (its name): executeAsModal rejects, as Photoshop 25.10+ does. */
  otherModal: string | undefined;
  /**
   * What getLayerMask answers for a request reaching outside the mask's own rect (undocumented, real-host-2 G9):
   * 'trim' answers only the part inside it (sourceBounds trimmed, as getPixels does for layers); 'fill' answers the
   * whole request, the mask's default colour (Reveal All / Hide All) outside its rect.
   */
  maskOutside: 'trim' | 'fill' = 'trim';
  /** What getPixels does for an area without pixels (undocumented): throw, or answer an empty area. */
  noPixels: 'throw' | 'empty' = 'throw';
  /** Whether a plugin's modal UI (a dialog) is shown now: the progress bar is hidden then (tests wire the DOM). */
  modalUiShown: (() => boolean) | undefined;
  /**
   * getPixels fails (tests, G7): the next `times` calls throw `message` ("… is not currently available", an
   * out-of-memory error), as Photoshop's imaging calls can.
   */
  failGetPixels: { message: string; times: number } | undefined;
  /** Called on each reportProgress (tests cancel or close the document from here). */
  onProgress: ((value: number, ctx: ExecutionContext & { cancel(): void }) => void) | undefined;
  /** Live bytes of imaging buffers, and their peak. */
  liveImagingBytes = 0;
  peakImagingBytes = 0;
  suspensionIds = 1;

  constructor(readonly options: SimOptions = {}) {}

  account(delta: number): void {
    this.liveImagingBytes += delta;
    if (this.liveImagingBytes > this.peakImagingBytes) this.peakImagingBytes = this.liveImagingBytes;
  }

  newDocument(init: ConstructorParameters<typeof SimDocument>[1]): SimDocument {
    const doc = new SimDocument(this, init);
    this.documents.push(doc);
    this.activeDocument = doc;
    return doc;
  }

  /** The user closes a document (File › Close; allowed here even during a modal scope, to test that case). */
  closeDocument(doc: SimDocument): void {
    doc.closed = true;
    this.documents.splice(this.documents.indexOf(doc), 1);
    if (this.activeDocument === doc) this.activeDocument = this.documents[this.documents.length - 1] ?? null;
  }

  doc(id: number | undefined): SimDocument {
    const d = id === undefined || id < 0 ? this.activeDocument : this.documents.find((x) => x.id === id);
    if (!d) throw new Error(`No document with id ${id}`);
    return d;
  }

  layer(doc: SimDocument, id: number): SimLayer {
    const l = doc.layerList.find((x) => x.id === id);
    if (!l) throw new Error(`No layer with id ${id} in document ${doc.id}`);
    return l;
  }
}
