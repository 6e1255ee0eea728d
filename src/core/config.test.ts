import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commonConfig, parseAmount, parseCommand } from './config.ts';

test('parses token amounts exactly, in tokens or base units', () => {
  assert.equal(parseAmount('250'), 250n * 10n ** 18n);
  assert.equal(parseAmount('1.5'), 15n * 10n ** 17n);
  assert.equal(parseAmount('1000wei'), 1000n);
  assert.throws(() => parseAmount('1e18'), { code: 'BAD_AMOUNT' });
  assert.throws(() => parseAmount('-1'), { code: 'BAD_AMOUNT' });
});

test('refuses unknown flags, bad ports and malformed keys with stable codes', () => {
  assert.throws(() => parseCommand(['--nope'], {}), { code: 'BAD_ARGUMENTS' });
  assert.throws(() => commonConfig(parseCommand(['--port', '70000'], {}).values, '.d'), {
    code: 'BAD_ARGUMENTS',
  });
  assert.throws(() => commonConfig(parseCommand(['--key', '0x12'], {}).values, '.d'), { code: 'BAD_KEY' });
});

test('takes flags over DEPIN_* environment variables over defaults', () => {
  process.env.DEPIN_RPC = 'http://127.0.0.1:9999';
  try {
    assert.equal(commonConfig(parseCommand([], {}).values, '.d').rpc, 'http://127.0.0.1:9999');
    assert.equal(commonConfig(parseCommand(['--rpc', 'http://x:1'], {}).values, '.d').rpc, 'http://x:1');
  } finally {
    delete process.env.DEPIN_RPC;
  }
  assert.equal(commonConfig(parseCommand([], {}).values, '.d').rpc, 'http://127.0.0.1:8545');
});
