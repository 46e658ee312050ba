#!/usr/bin/env node
import path from 'node:path';
import { pathToFileURL } from 'node:url';
// Runs a TypeScript file with tsx's loader: `node bin/run-ts.js path/to/file.ts [args]`.
import { register } from 'tsx/esm/api';

register();
const file = process.argv[2];
if (!file) {
  console.error('usage: node bin/run-ts.js <file.ts> [args]');
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(path.resolve(file)).href);
