import { mount } from 'svelte';
import 'virtual:cjk-font.css';
import './app.css';
import App from './App.svelte';
import { preloadFontFamily } from './lib/font-preload';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
// The bundled Chinese font first, or a run drawn before its slice arrives stays as boxes (see font-preload.ts).
void preloadFontFamily(document.fonts, 'Noto Sans SC', 2000).finally(() => mount(App, { target }));
