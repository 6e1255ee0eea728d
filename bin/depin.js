#!/usr/bin/env -S node --min-semi-space-size=16
// The flag: see DAEMON_NODE_FLAGS in src/devnet/processes.ts (fewer mark-compacts under upload load).
// The `depin` command. Node 24 runs the TypeScript sources directly.
import '../src/cli/main.ts';
