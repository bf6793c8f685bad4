#!/usr/bin/env node
// The `onehand` command. In a clone (TypeScript sources present, tsx installed) it runs the sources
// through tsx, so there is no build step and never a stale build; where only the compiled output
// exists (the Docker image, a published package) it runs dist/.
const path = require('node:path');
const fs = require('node:fs');
const root = path.join(__dirname, '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
let useSource = fs.existsSync(source);
if (useSource) {
  try {
    require.resolve('tsx/cjs');
  } catch {
    useSource = false;
  }
}
if (useSource) {
  // tsx reads the tsconfig of the current folder by default; the sources need this project's
  // (decorators), wherever `onehand` is started from.
  process.env.TSX_TSCONFIG_PATH = path.join(root, 'tsconfig.json');
  require('tsx/cjs');
  require(source).runCli();
} else {
  require(path.join(root, 'dist', 'src', 'cli', 'main.js')).runCli();
}
