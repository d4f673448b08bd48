/**
 * Renderer build: root `renderer/`, output `dist/renderer`, relative base so the
 * same files load from a custom protocol (Electron) or the web-mode server.
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { cjkFontPlugin } from '../build/cjk-font.mjs';

const rendererRoot = fileURLToPath(new URL('.', import.meta.url));
const outDir = fileURLToPath(new URL('../dist/renderer', import.meta.url));

export default defineConfig({
  root: rendererRoot,
  base: './',
  plugins: [svelte(), cjkFontPlugin(fileURLToPath(new URL('..', import.meta.url)))],
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // Inline assets would become data: URLs for scripts/workers, which the CSP forbids.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  worker: {
    format: 'es',
  },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
});
