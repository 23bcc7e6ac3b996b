/**
 * Image files in and out of the panel: decoding the fill's bytes to pixels, and the colour profile that
 * travels with them. The code lives in core (core/src/web/image-files.ts), shared with the web page.
 *
 * Whether Figma honours embedded profiles of image fills is not documented (audit F13), so the result carries
 * exactly what the source carried: Figma treats the enlarged image however it treats the original, in a
 * Legacy, sRGB or Display P3 document alike.
 */
export { decodeImage, iccProfile, withIccProfile, type IccProfile } from '@enlarge/core/image-files';
