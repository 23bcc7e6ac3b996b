import { describe, expect, it } from 'vitest';
import {
  AbortError,
  describeError,
  EnlargeError,
  errorFromCode,
  ImageTooLargeError,
  ModelFileMissingError,
  RuntimeFailedError,
  UnknownModelError,
} from '../src/errors.js';

describe('errors', () => {
  it('survive the wire: code + message + details rebuild the same class with its fields', () => {
    const e = new ImageTooLargeError('Too big.', 70000, 10, 400e6);
    const back = errorFromCode(e.code, e.message, e.details());
    expect(back).toBeInstanceOf(ImageTooLargeError);
    expect(back).toBeInstanceOf(EnlargeError);
    expect([back.code, back.message, (back as ImageTooLargeError).width, back.name]).toEqual([
      'IMAGE_TOO_LARGE',
      'Too big.',
      70000,
      'ImageTooLargeError',
    ]);
    const abort = errorFromCode('ABORTED', 'Stopped.');
    expect(abort).toBeInstanceOf(AbortError);
    expect(abort.name).toBe('AbortError');
    expect(errorFromCode('NOT_A_CODE', 'x')).toBeInstanceOf(RuntimeFailedError);
  });

  it('describeError: one mapping, with the remedy of the surface and never a stack trace', () => {
    const missing = new ModelFileMissingError('x4.onnx');
    expect(describeError(missing, 'cli').message).toBe(
      'The model file x4.onnx is missing. Run "npm run models" (or reinstall) to rebuild the models.',
    );
    expect(describeError(missing, 'plugin').message).toBe(
      'The model file x4.onnx is missing. Reinstall the plugin to restore its models.',
    );
    const wire = errorFromCode(missing.code, missing.message, missing.details());
    expect(describeError(wire, 'web').message).toBe(
      'The model file x4.onnx is missing. Reload the page to fetch the models again.',
    );
    expect(describeError(new UnknownModelError('x', ['a', 'b']), 'cli').message).toMatch(
      /Choose one of: a, b\. Run "enlarge models"/,
    );
    expect(describeError(new UnknownModelError('x', ['a']), 'plugin').message).not.toMatch(/enlarge models/);
    expect(describeError(new RangeError('Array buffer allocation failed'), 'plugin')).toMatchObject({
      code: 'OUT_OF_MEMORY',
    });
    const odd = describeError(new TypeError('x is not a function'), 'cli');
    expect(odd.code).toBe('RUNTIME_FAILED');
    expect(odd.message).toMatch(/^The upscaler stopped because of an unexpected problem \(x is not a function\)\./);
    expect(odd.message).not.toMatch(/\n\s+at /);
  });
});
