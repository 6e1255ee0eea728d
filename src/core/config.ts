/**
 * Daemon and command configuration: command-line flags, then DEPIN_* environment variables, then
 * defaults. docs/CONFIGURATION.md lists every key with its default.
 */
import { readFileSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { Hex } from 'viem';
import { DepinError } from './errors.ts';

export type CommonConfig = {
  rpc: string;
  deployment: string;
  key?: Hex;
  keystore?: string;
  password?: string;
  dataDir: string;
  host: string;
  port: number;
  publicUrl?: string;
  logLevel: string;
};

export const commonOptions = {
  rpc: { type: 'string' },
  deployment: { type: 'string' },
  key: { type: 'string' },
  keystore: { type: 'string' },
  'password-file': { type: 'string' },
  'data-dir': { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  'public-url': { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const DEFAULTS = {
  rpc: 'http://127.0.0.1:8545',
  deployment: '.depin/devnet/deployment.json',
  dataDir: '.depin',
  host: '127.0.0.1',
  port: 0,
  logLevel: 'info',
} as const;

type Values = Record<string, string | boolean | undefined>;

export function parseCommand(
  argv: string[],
  options: ParseArgsOptionsConfig,
): { values: Values; positionals: string[] } {
  try {
    const r = parseArgs({
      args: argv,
      options: { ...commonOptions, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: r.values as Values, positionals: r.positionals };
  } catch (e) {
    throw new DepinError('BAD_ARGUMENTS', (e as Error).message, { cause: e });
  }
}

function env(name: string): string | undefined {
  const v = process.env[`DEPIN_${name.toUpperCase().replace(/-/g, '_')}`];
  return v === '' ? undefined : v;
}

/** A string option: flag, then DEPIN_<NAME>, then default. */
export function opt(values: Values, name: string, fallback: string): string;
export function opt(values: Values, name: string): string | undefined;
export function opt(values: Values, name: string, fallback?: string): string | undefined {
  const v = values[name];
  return (typeof v === 'string' ? v : undefined) ?? env(name) ?? fallback;
}

export function commonConfig(values: Values, defaultDataDir: string): CommonConfig {
  const port = Number(opt(values, 'port', String(DEFAULTS.port)));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new DepinError('BAD_ARGUMENTS', `--port must be 0..65535, got ${opt(values, 'port')}.`);
  }
  const key = opt(values, 'key');
  if (key !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(key)) {
    throw new DepinError('BAD_KEY', '--key must be a 32-byte hex private key (0x…).');
  }
  const passwordFile = opt(values, 'password-file');
  const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : env('password');
  const keystore = opt(values, 'keystore');
  const publicUrl = opt(values, 'public-url');
  return {
    rpc: opt(values, 'rpc', DEFAULTS.rpc),
    deployment: opt(values, 'deployment', DEFAULTS.deployment),
    ...(key ? { key: key as Hex } : {}),
    ...(keystore ? { keystore } : {}),
    ...(password !== undefined ? { password } : {}),
    dataDir: opt(values, 'data-dir', defaultDataDir),
    host: opt(values, 'host', DEFAULTS.host),
    port,
    ...(publicUrl ? { publicUrl } : {}),
    logLevel: opt(values, 'log-level', DEFAULTS.logLevel),
  };
}

/** Parses a token amount: "100" = 100 tokens; "100wei" = base units. */
export function parseAmount(s: string): bigint {
  const m = /^(\d+)(\.\d+)?(wei)?$/.exec(s.trim());
  if (!m) throw new DepinError('BAD_AMOUNT', `Not an amount: ${s} (use e.g. 250 or 1.5 or 1000wei).`);
  if (m[3]) return BigInt(m[1]! + (m[2] ?? '').replace('.', ''));
  const frac = (m[2] ?? '.').slice(1).padEnd(18, '0').slice(0, 18);
  return BigInt(m[1]!) * 10n ** 18n + BigInt(frac || '0');
}
