/// <reference types="@figma/plugin-typings" />
// Figma sandbox entry (built to dist/code.js): Figma provides `figma` and `__html__` (dist/ui.html); the
// build defines ENLARGE_CATALOG as the catalog of the models ui.html carries (models/bundles.json "figma").
import { Catalog, type Manifest } from '@enlarge/core';
import { startPlugin } from './sandbox.js';

declare const ENLARGE_CATALOG: Manifest;

startPlugin(figma, __html__, new Catalog(ENLARGE_CATALOG));
