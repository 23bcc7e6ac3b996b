/** The web page's small DOM helpers: elements by id, the query, the message line and the progress bar. */

export const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
export const query = new URLSearchParams(location.search);

export function say(message: string): void {
  $('message').textContent = message;
}

export function formatEta(ms: number | undefined): string {
  if (ms === undefined) return 'estimating the time left…';
  const s = Math.max(1, Math.round(ms / 1000));
  return s < 60 ? `about ${s} s left` : `about ${Math.round(s / 60)} min left`;
}

export function showProgress(fraction: number, text: string): void {
  $('progress-box').hidden = false;
  $<HTMLProgressElement>('progress').value = fraction;
  $('eta').textContent = text;
}
