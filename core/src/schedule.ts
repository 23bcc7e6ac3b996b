/**
 * Gives the host's event loop a turn. An inference on WASM (and often on CPU) settles in microtasks, so
 * without a real task boundary between tiles a 'cancel' message, a UI repaint or a progress message to a
 * same-thread host would wait until the whole job finished.
 *
 * MessageChannel resolves in the next task and, unlike setTimeout, is not throttled in background frames;
 * hosts without it (some UXP versions) fall back to setTimeout.
 */
export function nextTask(): Promise<void> {
  const MC = (globalThis as { MessageChannel?: typeof MessageChannel }).MessageChannel;
  if (!MC) return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const channel = new MC();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
