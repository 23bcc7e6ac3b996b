/** ui.html's own script text (set by ./main.ts while it runs), from which the engine Worker is started. */
let text = '';
export function setOwnSource(source: string): void {
  text = source;
}
export function ownSource(): string {
  return text;
}
