#!/usr/bin/env node
// The `onehand` command: runs the compiled CLI when built (npm run build, the Docker image),
// else the TypeScript sources through tsx, so a fresh clone works without a build step.
const path = require('node:path');
const fs = require('node:fs');
const built = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (fs.existsSync(built)) {
  require(built).runCli();
} else {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'src', 'cli', 'main.ts')).runCli();
}
