/**
 * Provenance for print and stock users: the result's XMP says it was algorithmically enhanced (IPTC
 * Digital Source Type `algorithmicallyEnhanced`, cv.iptc.org/newscodes/digitalsourcetype) and with what —
 * models, factor, fidelity — merged into the source's own XMP packet (kept otherwise as it was), or in a new
 * packet when the source had none. EXIF and IPTC are carried by the writers as before (./metadata.ts).
 */

export const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicallyEnhanced';
const IPTC_EXT = 'http://iptc.org/std/Iptc4xmpExt/2008-02-29/';
/** Our own properties' namespace (a URN: no web address is implied). */
export const ENLARGE_NS = 'urn:x-enlarge:xmp:1.0/';

export interface Provenance {
  /** Model ids in the order they ran. */
  models: string[];
  /** Output / input width. */
  factor: number;
  /** Fidelity used (0 = the model as it is). */
  fidelity: number;
  /** e.g. "Enlarge 0.1.0". */
  software: string;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function description(p: Provenance): string {
  const factor = Number(p.factor.toFixed(4));
  return (
    `<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="${IPTC_EXT}" xmlns:enlarge="${ENLARGE_NS}"` +
    ` Iptc4xmpExt:DigitalSourceType="${DIGITAL_SOURCE_TYPE}"` +
    ` enlarge:Models="${esc(p.models.join(' → '))}" enlarge:Factor="${factor}"` +
    ` enlarge:Fidelity="${Number(p.fidelity.toFixed(4))}" enlarge:Software="${esc(p.software)}"/>`
  );
}

/** The source's XMP (if any) with the provenance added; an earlier Digital Source Type or Enlarge record is replaced. */
export function provenanceXmp(source: Buffer | undefined, p: Provenance): Buffer {
  const desc = description(p);
  let xml = source?.toString('utf8');
  if (xml && xml.includes('</rdf:RDF>')) {
    xml = xml
      // An earlier run of ours.
      .replace(/<rdf:Description\b[^>]*xmlns:enlarge="[^"]*"[^>]*\/>\s*/g, '')
      // The source's own Digital Source Type (attribute, element or resource form): it is enhanced now.
      .replace(/\s+Iptc4xmpExt:DigitalSourceType="[^"]*"/g, '')
      .replace(/<Iptc4xmpExt:DigitalSourceType\b[^>]*\/>\s*/g, '')
      .replace(/<Iptc4xmpExt:DigitalSourceType\b[^>]*>[\s\S]*?<\/Iptc4xmpExt:DigitalSourceType>\s*/g, '');
    const at = xml.lastIndexOf('</rdf:RDF>');
    return Buffer.from(`${xml.slice(0, at)}${desc}\n${xml.slice(at)}`, 'utf8');
  }
  return Buffer.from(
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' +
      '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n' +
      '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n' +
      `${desc}\n` +
      '</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end="w"?>',
    'utf8',
  );
}
