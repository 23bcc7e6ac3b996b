/**
 * The one set of defaults every surface reads: the engine itself, the CLI, both plugins, the web page and the
 * engine page. Almost every user keeps them, so they are decided here once (issue: one default everywhere).
 */
export const DEFAULTS = Object.freeze({
  preset: 'auto',
  scale: 4,
  /** 0 = the model as it is … 1 = most faithful to the input. */
  fidelity: 0.5,
} as const);
