#!/usr/bin/env node
// Runs the TypeScript CLI through tsx so the repo needs no build step for headless use.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
