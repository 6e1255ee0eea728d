#!/usr/bin/env node
// The `depin` command. Node 24 runs the TypeScript sources directly.
import '../src/cli/main.ts';
