/** Notes which globals the host lacked before the polyfills install them (imports run in order; Diagnostics reads the marks). */
for (const name of ['TextEncoder', 'TextDecoder', 'AbortController', 'performance']) {
  if (typeof (globalThis as Record<string, unknown>)[name] === 'undefined')
    (globalThis as Record<string, unknown>)[`__enlarge_polyfilled_${name}`] = true;
}
export {};
