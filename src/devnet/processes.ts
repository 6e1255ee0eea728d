/**
 * Daemons as separate OS processes: spawned with this Node (24), logs to a file, ready when the
 * child prints its `{"event":"ready"}` line on stdout; stop is SIGTERM then SIGKILL after a grace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DepinError } from '../core/errors.ts';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../cli/main.ts');

/**
 * Node flags every daemon runs with (bin/depin.js sets the same in its shebang). A young
 * generation of 2 × 16 MiB from the start: a node streaming uploads keeps each request's objects
 * alive for a few scavenges, and with V8's default 1 MiB start they were promoted and the old
 * generation filled every few hundred ms — 4 to 7 mark-compacts per node in one 256 MiB store on
 * 8 nodes. With it: none, node CPU per store down from ~5.2 to ~3.4 s, store time down ~20 %.
 * `DEPIN_DAEMON_FLAGS` (space-separated) adds flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 */
export const DAEMON_NODE_FLAGS = ['--min-semi-space-size=16'];

export type Daemon = {
  name: string;
  args: string[];
  logFile: string;
  proc: ChildProcess | undefined;
  url: string;
  /** Starts (or restarts) the process and waits until it is serving. */
  start: () => Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
  /** SIGKILL at once: a crash. */
  kill: () => Promise<void>;
};

export function createDaemon(name: string, args: string[], logFile: string, readyTimeoutMs = 60_000): Daemon {
  mkdirSync(dirname(logFile), { recursive: true });
  const d: Daemon = {
    name,
    args,
    logFile,
    proc: undefined,
    url: '',
    async start() {
      const log = createWriteStream(logFile, { flags: 'a' });
      // A restarted daemon keeps its port, as a real one keeps its configured address: peers and the
      // chain know it by that endpoint.
      const port = d.url ? new URL(d.url).port : undefined;
      const argv = port && !args.includes('--port') ? [...args, '--port', port] : args;
      const proc = spawn(process.execPath, [...DAEMON_NODE_FLAGS, ...extraFlags(), MAIN, ...argv], {
        // The child stops when this process goes, however it goes (see runDaemon).
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, DEPIN_EXIT_WITH_PARENT: '1' },
      });
      d.proc = proc;
      proc.stderr!.pipe(log);
      const lines = createInterface({ input: proc.stdout! });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new DepinError('DAEMON_START_TIMEOUT', `${name} did not start in time; see ${logFile}.`)),
          readyTimeoutMs,
        );
        lines.on('line', (line) => {
          try {
            const msg = JSON.parse(line) as { event?: string; url?: string };
            if (msg.event === 'ready') {
              d.url = msg.url ?? '';
              clearTimeout(timer);
              resolve();
            }
          } catch {
            log.write(`${line}\n`);
          }
        });
        proc.once('exit', (code) => {
          clearTimeout(timer);
          reject(
            new DepinError(
              'DAEMON_EXITED',
              `${name} exited with code ${code} while starting; see ${logFile}.`,
            ),
          );
        });
      });
    },
    async stop(graceMs = 5000) {
      const proc = d.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      const proc = d.proc;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGKILL');
      await exited;
    },
  };
  return d;
}

function extraFlags(): string[] {
  return (process.env['DEPIN_DAEMON_FLAGS'] ?? '').split(' ').filter(Boolean);
}
