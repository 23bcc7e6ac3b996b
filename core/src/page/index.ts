/** The engine page's protocol, its client (the remote Upscaler) and its job queue (for hosts that serve the protocol from a Worker of their own). */
export * from './protocol.js';
export { EngineClient, type ClientOptions, type EngineTransport } from './client.js';
export { announceReady, JobQueue, type ReplyTarget } from './queue.js';
