/// <reference types="@figma/plugin-typings" />
// Figma sandbox entry (built to dist/code.js): Figma provides `figma` and `__html__` (dist/ui.html).
import { startPlugin } from './sandbox.js';

startPlugin(figma, __html__);
