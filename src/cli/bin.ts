#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';
import { main } from './main.js';

// The HTTP parser (undici's llhttp, WebAssembly) is compiled by Liftoff alone. Otherwise V8
// optimizes it again in the background and the process waits at exit for that to finish: for a
// command of a few requests (a `get`, a one-thing rollout) that wait was 50-300 ms; parsing the
// responses of a 15,000-thing rollout took the same CPU either way (measured on the build).
setFlagsFromString('--liftoff-only');

await main(process.argv.slice(2));
