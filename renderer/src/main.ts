import { mount } from 'svelte';
import 'virtual:cjk-font.css';
import './app.css';
import App from './App.svelte';
import { reshapeWhenFontsLoad } from './lib/font-reshape';

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
reshapeWhenFontsLoad(document);
mount(App, { target });
