/**
 * Every failure Enlarge reports is an EnlargeError with a stable `code` and a message a person can act on:
 * what happened, then what to do. Hosts show `describeError(err, surface).message` as-is: it is the one
 * mapping from any thrown value to plain words, with the remedy that fits the surface (a plugin user is
 * never told to run an npm script). Errors cross the engine page's wire as code + message + details and
 * are rebuilt with `errorFromCode`, so `instanceof` holds on both sides.
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
  | 'IO_FAILED'
  | 'HOST_STATE';

/** Where a message is shown: the command line, an editor plugin, or a web page. */
export type Surface = 'cli' | 'plugin' | 'web';

/** Serializable extra fields of an error (sizes of ImageTooLargeError, the file of a model error). */
export type ErrorDetails = Record<string, string | number | boolean | undefined>;

export class EnlargeError extends Error {
  readonly code: ErrorCode;
  /** What happened, without a remedy, for errors whose remedy depends on the surface (see describeError). */
  readonly what?: string;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; what?: string }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    if (options?.what) this.what = options.what;
  }

  /** Fields that travel with the error over the engine page's wire. */
  details(): ErrorDetails | undefined {
    return this.what ? { what: this.what } : undefined;
  }
}

/** The image cannot be processed as given (empty, 0-sized, 1×1, extreme aspect, wrong buffer length). */
export class InvalidImageError extends EnlargeError {
  constructor(message: string) {
    super('INVALID_IMAGE', message);
  }
}
/** Channel count, bit depth or file format that Enlarge does not handle. */
export class UnsupportedFormatError extends EnlargeError {
  constructor(message: string) {
    super('UNSUPPORTED_FORMAT', message);
  }
}
/** The requested result is larger than the configured or host limit. */
export class ImageTooLargeError extends EnlargeError {
  constructor(
    message: string,
    readonly width: number,
    readonly height: number,
    readonly limit: number,
  ) {
    super('IMAGE_TOO_LARGE', message);
  }
  override details(): ErrorDetails {
    return { width: this.width, height: this.height, limit: this.limit };
  }
}
/** An option value is out of range or contradicts another option. */
export class InvalidOptionError extends EnlargeError {
  constructor(message: string) {
    super('INVALID_OPTION', message);
  }
}
export class UnknownModelError extends EnlargeError {
  constructor(
    readonly modelId: string,
    known: readonly string[],
  ) {
    const what = `There is no model called "${modelId}". Choose one of: ${known.join(', ')}.`;
    super('UNKNOWN_MODEL', what, { what });
  }
  override details(): ErrorDetails {
    return { modelId: this.modelId, what: this.what };
  }
}
export class ModelFileMissingError extends EnlargeError {
  constructor(
    readonly file: string,
    what = `The model file ${file} is missing.`,
  ) {
    super('MODEL_FILE_MISSING', `${what} ${REMEDIES.MODEL_FILE_MISSING.plugin}`, { what });
  }
  override details(): ErrorDetails {
    return { file: this.file, what: this.what };
  }
}
export class ModelFileTamperedError extends EnlargeError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    const what = `The model file ${file} does not match the catalog (sha256 ${actual.slice(0, 12)}…, expected ${expected.slice(0, 12)}…). It may be damaged or replaced.`;
    super('MODEL_FILE_TAMPERED', `${what} ${REMEDIES.MODEL_FILE_TAMPERED.plugin}`, { what });
  }
  override details(): ErrorDetails {
    return { file: this.file, expected: this.expected, actual: this.actual, what: this.what };
  }
}
/** The model produced NaN/Inf or a tensor of the wrong shape. */
export class ModelOutputError extends EnlargeError {
  constructor(message: string) {
    super('MODEL_OUTPUT_INVALID', message);
  }
}
export class RuntimeFailedError extends EnlargeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RUNTIME_FAILED', message, options);
  }
}
/**
 * A GPU backend that stopped working for this engine (WebGL: its context was lost, or a kernel failed to
 * compile or run): the engine drops that backend and runs the pass again on the next one.
 */
export class BackendLostError extends RuntimeFailedError {
  constructor(
    readonly backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class OutOfMemoryError extends EnlargeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('OUT_OF_MEMORY', message, options);
  }
}
/** A file or download could not be read or written. */
export class IoError extends EnlargeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IO_FAILED', message, options);
  }
}
/** The host is not in a state the command can work on (no document, no layer, a locked layer, a closed file). */
export class HostStateError extends EnlargeError {
  constructor(message: string) {
    super('HOST_STATE', message);
  }
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

/** Remedies that depend on where the user is. */
const REMEDIES = {
  MODEL_FILE_MISSING: {
    cli: 'Run "npm run models" (or reinstall) to rebuild the models.',
    plugin: 'Reinstall the plugin to restore its models.',
    web: 'Reload the page to fetch the models again.',
  },
  UNKNOWN_MODEL: {
    cli: 'Run "enlarge models" to see them all.',
    plugin: '',
    web: '',
  },
  MODEL_FILE_TAMPERED: {
    cli: 'Run "npm run models" to rebuild it.',
    plugin: 'Reinstall the plugin to restore it.',
    web: 'Reload the page to fetch it again.',
  },
} satisfies Partial<Record<ErrorCode, Record<Surface, string>>>;

const CLASSES: Partial<Record<ErrorCode, new (...args: never[]) => EnlargeError>> = {
  INVALID_IMAGE: InvalidImageError,
  UNSUPPORTED_FORMAT: UnsupportedFormatError,
  IMAGE_TOO_LARGE: ImageTooLargeError,
  INVALID_OPTION: InvalidOptionError,
  UNKNOWN_MODEL: UnknownModelError,
  MODEL_FILE_MISSING: ModelFileMissingError,
  MODEL_FILE_TAMPERED: ModelFileTamperedError,
  MODEL_OUTPUT_INVALID: ModelOutputError,
  RUNTIME_FAILED: RuntimeFailedError,
  OUT_OF_MEMORY: OutOfMemoryError,
  IO_FAILED: IoError,
  HOST_STATE: HostStateError,
  ABORTED: AbortError,
};

/**
 * Rebuilds a typed error from its wire form (code, message, details): an instance of the code's class,
 * so `instanceof ImageTooLargeError` holds for an error raised in the engine page.
 */
export function errorFromCode(code: string, message: string, details?: ErrorDetails): EnlargeError {
  const known = (CLASSES as Record<string, (new (...args: never[]) => EnlargeError) | undefined>)[code];
  const err = Reflect.construct(
    EnlargeError,
    [known ? code : 'RUNTIME_FAILED', message],
    known ?? RuntimeFailedError,
  ) as EnlargeError;
  if (known === AbortError) err.name = 'AbortError';
  if (details)
    for (const [k, v] of Object.entries(details))
      if (!(k in Error.prototype)) (err as unknown as Record<string, unknown>)[k] = v;
  return err;
}

/** True for the messages runtimes and engines throw when an allocation fails. */
export function isOutOfMemory(err: unknown): boolean {
  const msg = String((err as Error)?.message ?? err);
  return /out of memory|bad_alloc|Failed to allocate|memory allocation|OOM|RangeError: Array buffer allocation|Aborted\(OOM\)|Array buffer allocation failed/i.test(
    msg,
  );
}

/**
 * The one mapping from anything thrown to what a user reads: an EnlargeError keeps its code and message
 * (with the remedy of `surface` where that differs); an allocation failure becomes OUT_OF_MEMORY; anything
 * else is RUNTIME_FAILED with the detail in brackets — never a stack trace.
 */
export function describeError(err: unknown, surface: Surface): { code: ErrorCode; message: string } {
  if (err instanceof EnlargeError) {
    const remedies = (REMEDIES as Partial<Record<ErrorCode, Record<Surface, string>>>)[err.code];
    if (!remedies || !err.what) return { code: err.code, message: err.message };
    const remedy = remedies[surface];
    return { code: err.code, message: remedy ? `${err.what} ${remedy}` : err.what };
  }
  if (isOutOfMemory(err)) {
    return {
      code: 'OUT_OF_MEMORY',
      message: 'The image did not fit in memory. Choose a smaller scale or a smaller image.',
    };
  }
  const detail = err instanceof Error ? err.message : String(err);
  const again =
    surface === 'cli'
      ? 'Try again; if it keeps happening, try a smaller image.'
      : 'Try again; if it keeps happening, try a smaller image or restart the plugin.';
  return {
    code: 'RUNTIME_FAILED',
    message: `The upscaler stopped because of an unexpected problem (${detail}). ${again}`,
  };
}
