#!/usr/bin/env node
// The brook command: runs the built command line (npm run build compiles src/ to dist/).
await import('../dist/main.js');
