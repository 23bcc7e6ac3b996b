import { benchBrowser, CPU_ARGS } from './browser.js';
console.log(await benchBrowser({ label: 'wasm1', threads: 1, isolate: false, args: CPU_ARGS, options: { model: 'realesrgan-x4fast', scale: 4 }, size: 64, reps: 2, timeoutMs: 120000 }));
console.log(await benchBrowser({ label: 'wasm2', threads: 2, isolate: true, args: CPU_ARGS, options: { model: 'realesrgan-x4fast', scale: 4 }, size: 64, reps: 2, timeoutMs: 120000 }));
