#!/usr/bin/env node
'use strict';
// The CLI is bundled by `npm run build` into dist/cli.cjs.
const path = require('node:path');
const fs = require('node:fs');

const cli = path.join(__dirname, '..', 'dist', 'cli.cjs');
if (!fs.existsSync(cli)) {
  process.stderr.write('lifeboat: run `npm run build` first\n');
  process.exit(2);
}
require(cli).run(process.argv.slice(2));
