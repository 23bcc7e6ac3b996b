/**
 * Every failure Enlarge reports is an EnlargeError with a stable `code` and a message a person can act on:
 * what happened, then what to do. Hosts show `message` as-is.
 */
export type ErrorCode =
  | 'INVALID_IMAGE'
  | 'UNSUPPORTED_FORMAT'
  | 'IMAGE_TOO_LARGE'
  | 'INVALID_OPTION'
  | 'UNKNOWN_MODEL'
  | 'MODEL_FILE_MISSING'
  | 'MODEL_FILE_TAMPERED'
  | 'MODEL_OUTPUT_INVALID'
  | 'RUNTIME_FAILED'
  | 'OUT_OF_MEMORY'
  | 'ABORTED'
  | 'IO_FAILED';

export class EnlargeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The image cannot be processed as given (empty, 0-sized, 1×1, extreme aspect, wrong buffer length). */
export class InvalidImageError extends EnlargeError {
  constructor(message: string) { super('INVALID_IMAGE', message); }
}
/** Channel count, bit depth or file format that Enlarge does not handle. */
export class UnsupportedFormatError extends EnlargeError {
  constructor(message: string) { super('UNSUPPORTED_FORMAT', message); }
}
/** The requested result is larger than the configured or host limit. */
export class ImageTooLargeError extends EnlargeError {
  constructor(message: string, readonly width: number, readonly height: number, readonly limit: number) {
    super('IMAGE_TOO_LARGE', message);
  }
}
/** An option value is out of range or contradicts another option. */
export class InvalidOptionError extends EnlargeError {
  constructor(message: string) { super('INVALID_OPTION', message); }
}
export class UnknownModelError extends EnlargeError {
  constructor(readonly modelId: string, known: readonly string[]) {
    super('UNKNOWN_MODEL', `There is no model called "${modelId}". Choose one of: ${known.join(', ')} (run "enlarge models" to see them all).`);
  }
}
export class ModelFileMissingError extends EnlargeError {
  constructor(readonly file: string) {
    super('MODEL_FILE_MISSING', `The model file ${file} is missing. Run "npm run models" (or reinstall) to rebuild the models.`);
  }
}
export class ModelFileTamperedError extends EnlargeError {
  constructor(readonly file: string, readonly expected: string, readonly actual: string) {
    super('MODEL_FILE_TAMPERED', `The model file ${file} does not match the catalog (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…). It may be damaged or replaced; run "npm run models" to rebuild it.`);
  }
}
/** The model produced NaN/Inf or a tensor of the wrong shape. */
export class ModelOutputError extends EnlargeError {
  constructor(message: string) { super('MODEL_OUTPUT_INVALID', message); }
}
export class RuntimeFailedError extends EnlargeError {
  constructor(message: string, options?: { cause?: unknown }) { super('RUNTIME_FAILED', message, options); }
}
export class OutOfMemoryError extends EnlargeError {
  constructor(message: string, options?: { cause?: unknown }) { super('OUT_OF_MEMORY', message, options); }
}
/** The run was cancelled through its AbortSignal. `name` is "AbortError" like the DOM's. */
export class AbortError extends EnlargeError {
  constructor(message = 'The upscale was cancelled. Nothing was written.') {
    super('ABORTED', message);
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError();
}
