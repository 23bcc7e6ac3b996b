/**
 * The one set of defaults every surface reads: the engine itself, the CLI, both plugins, the web page and the
 * engine page. Almost every user keeps them, so they are decided here once (issue: one default everywhere).
 */
export const DEFAULTS = Object.freeze({
  preset: 'auto',
  scale: 4,
  /**
   * 0 = the model as it is … 1 = most faithful to the input. 0.25: the model's brightness and colour drift
   * corrected in full (low frequencies only), no blend towards the faithful network, so no JPEG blocks come
   * back (docs/quality.md, "Fidelity, redesigned").
   */
  fidelity: 0.25,
} as const);
