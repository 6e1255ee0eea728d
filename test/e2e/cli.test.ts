/** The `depin` command as a user runs it: separate processes, real output. */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createPublicClient, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { tokenAbi } from '../../src/chain/abi/index.ts';
import { decryptKeystore } from '../../src/chain/keystore.ts';

const BIN = join(import.meta.dirname, '../../bin/depin.js');
const run = promisify(execFile);

function firstLine(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`exited ${code}`)));
  });
}

describe('the depin command', { timeout: 120_000 }, () => {
  test('lists its commands', async () => {
    const { stdout } = await run(process.execPath, [BIN, '--help']);
    for (const c of ['devnet', 'chain', 'node', 'validator', 'keys'])
      assert.match(stdout, new RegExp(`\\b${c}\\b`));
  });

  test('fails with a stable code on an unknown command or flag', async () => {
    await assert.rejects(run(process.execPath, [BIN, 'frobnicate']), (e: { stderr: string }) =>
      /UNKNOWN_COMMAND/.test(e.stderr),
    );
    await assert.rejects(run(process.execPath, [BIN, 'node', '--bogus']), (e: { stderr: string }) =>
      /BAD_ARGUMENTS/.test(e.stderr),
    );
  });

  test('`depin chain` serves a JSON-RPC endpoint that a plain Ethereum library uses with no help', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depin-chain-'));
    const proc = spawn(
      process.execPath,
      [BIN, 'chain', '--port', '0', '--json', '--out', join(dir, 'deployment.json')],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const info = JSON.parse(await firstLine(proc)) as { rpc: string; deployment: string; chainId: number };
      const deployment = JSON.parse(readFileSync(info.deployment, 'utf8'));
      assert.equal(deployment.chainId, 31337);
      assert.match(deployment.contracts.Token, /^0x[0-9a-fA-F]{40}$/);
      const client = createPublicClient({ transport: http(info.rpc) });
      assert.equal(await client.getChainId(), 31337);
      assert.equal(
        await client.readContract({
          address: deployment.contracts.Token,
          abi: tokenAbi,
          functionName: 'symbol',
        }),
        'DPN',
      );
      // A raw JSON-RPC request without `params` also works (JSON-RPC 2.0 allows omitting it).
      const raw = await fetch(info.rpc, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":7,"method":"eth_blockNumber"}',
      });
      assert.equal(((await raw.json()) as { id: number }).id, 7);
    } finally {
      proc.kill('SIGTERM');
    }
  });

  test('`depin keys new` writes a v3 keystore that decrypts with its password only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depin-keys-'));
    const out = join(dir, 'key.json');
    const { stdout } = await run(process.execPath, [BIN, 'keys', 'new', '--out', out, '--json'], {
      env: { ...process.env, DEPIN_PASSWORD: 'correct horse' },
    });
    const { address } = JSON.parse(stdout) as { address: string };
    const json = readFileSync(out, 'utf8');
    assert.equal(JSON.parse(json).version, 3);
    const key = await decryptKeystore(json, 'correct horse');
    assert.equal(privateKeyToAccount(key).address, address);
    await assert.rejects(
      decryptKeystore(json, 'wrong'),
      (e: { code: string }) => e.code === 'KEYSTORE_BAD_PASSWORD',
    );
  });

  test('`depin devnet --epochs 1 --json` runs a network, prints the summary and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depin-devnet-'));
    const { stdout } = await run(
      process.execPath,
      [
        BIN,
        'devnet',
        '--epochs',
        '1',
        '--json',
        '--epoch-length',
        '4',
        '--port',
        '0',
        '--nodes',
        '2',
        '--validators',
        '1',
        '--dir',
        dir,
      ],
      { timeout: 90_000 },
    );
    const summary = JSON.parse(stdout) as {
      nodes: { address: string; uptime: number; earned: string; claimed: string }[];
      emitted: string;
      claimed: string;
    };
    assert.equal(summary.nodes.length, 2);
    for (const n of summary.nodes) {
      assert.match(n.address, /^0x[0-9a-f]{40}$/);
      assert.ok(BigInt(n.claimed) > 0n, 'each node claimed');
      assert.ok(BigInt(n.claimed) <= BigInt(n.earned));
      assert.equal(n.uptime, 1);
    }
    assert.ok(BigInt(summary.claimed) <= BigInt(summary.emitted));
  });

  test('killing `depin devnet` outright (SIGKILL) takes its node and validator processes down with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'depin-devnet-'));
    const devnet = spawn(
      process.execPath,
      [
        BIN,
        'devnet',
        '--epoch-length',
        '4',
        '--port',
        '0',
        '--nodes',
        '1',
        '--validators',
        '1',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const lines = createInterface({ input: devnet.stdout! });
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (l) => l.startsWith('RPC ') && resolve());
      devnet.once('exit', (code) => reject(new Error(`devnet exited ${code}`)));
    });
    const daemons = () =>
      readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return Number(p) !== devnet.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
          } catch {
            return false; // gone meanwhile
          }
        });
    try {
      assert.equal(daemons().length, 2, 'a node and a validator run');
      devnet.kill('SIGKILL');
      const deadline = Date.now() + 20_000;
      while (daemons().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(daemons(), [], 'no daemon outlives the devnet that started it');
    } finally {
      devnet.kill('SIGKILL');
      for (const p of daemons()) process.kill(Number(p), 'SIGKILL');
    }
  });
});
