#!/usr/bin/env node
// Entry point for the `innsikt` command. The project is TypeScript run directly
// through tsx's loader, so `npm ci` is the only build step a clone needs.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
