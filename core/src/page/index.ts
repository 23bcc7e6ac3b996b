/** The engine page's protocol and its client (the remote Upscaler), for hosts that embed the page. */
export * from './protocol.js';
export { EngineClient, type ClientOptions, type EngineTransport } from './client.js';
