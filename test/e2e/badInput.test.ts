/**
 * Bad input at the daemons' HTTP boundaries: each gets a 4xx with a stable code, nothing changes,
 * and the daemon keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Hex, keccak256, toHex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { type Domain, messageDomain, signMessage } from '../../src/core/messages.ts';
import { startTestNetwork } from '../helpers.ts';

type Net = Awaited<ReturnType<typeof startTestNetwork>>;

async function post(url: string, body: string | object, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('bad input', { timeout: 120_000 }, () => {
  let net: Net;
  let domain: Domain;
  let nodeUrl: string;
  let nodeAddress: Hex;
  const validatorKey = () => net.validators[0]!.key;
  let nonce = 0;
  const challenge = (over: Record<string, unknown> = {}) => ({
    validator: privateKeyToAccount(validatorKey()).address,
    node: nodeAddress,
    epoch: 1n,
    slot: 0,
    nonce: keccak256(toHex(`n${nonce++}-${Math.random()}`)),
    expiry: BigInt(Math.floor(Date.now() / 1000) + 60),
    ...over,
  });

  before(async () => {
    net = await startTestNetwork({ nodes: 1, validators: 1, epochLength: 5 });
    domain = messageDomain(net.chain.deployment.chainId, net.chain.deployment.contracts.Registry);
    nodeUrl = net.nodes[0]!.url;
    nodeAddress = net.nodes[0]!.address;
  });
  after(() => net?.stop());

  const expectCode = async (
    p: Promise<{ status: number; body: { error?: { code: string } } }>,
    status: number,
    code: string,
  ) => {
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.body));
    assert.equal(r.body.error?.code, code);
  };

  test('answers a valid challenge from an active validator with a signed response', async () => {
    const env = await signMessage(privateKeyToAccount(validatorKey()), domain, 'Challenge', challenge());
    const r = await post(`${nodeUrl}/v1/challenge`, env);
    assert.equal(r.status, 200);
    assert.equal(r.body.type, 'ChallengeResponse');
  });

  test('refuses malformed JSON with BAD_JSON', () =>
    expectCode(post(`${nodeUrl}/v1/challenge`, '{"type":'), 400, 'BAD_JSON'));

  test('refuses an unsigned message with MISSING_SIGNATURE', () =>
    expectCode(
      post(`${nodeUrl}/v1/challenge`, { type: 'Challenge', chainId: domain.chainId, message: {} }),
      401,
      'MISSING_SIGNATURE',
    ));

  test('refuses a message with a malformed field with BAD_MESSAGE', async () => {
    const env = await signMessage(privateKeyToAccount(validatorKey()), domain, 'Challenge', challenge());
    await expectCode(
      post(`${nodeUrl}/v1/challenge`, { ...env, message: { ...env.message, node: 'not-an-address' } }),
      400,
      'BAD_MESSAGE',
    );
  });

  test('refuses a message for another chain with WRONG_CHAIN', async () => {
    const env = await signMessage(
      privateKeyToAccount(validatorKey()),
      { ...domain, chainId: 1 },
      'Challenge',
      challenge(),
    );
    await expectCode(post(`${nodeUrl}/v1/challenge`, env), 403, 'WRONG_CHAIN');
  });

  test('refuses a tampered message with BAD_SIGNATURE', async () => {
    const env = await signMessage(privateKeyToAccount(validatorKey()), domain, 'Challenge', challenge());
    await expectCode(
      post(`${nodeUrl}/v1/challenge`, { ...env, message: { ...env.message, slot: 2 } }),
      401,
      'BAD_SIGNATURE',
    );
  });

  test('refuses an expired message with EXPIRED', async () => {
    const env = await signMessage(
      privateKeyToAccount(validatorKey()),
      domain,
      'Challenge',
      challenge({ expiry: BigInt(Math.floor(Date.now() / 1000) - 5) }),
    );
    await expectCode(post(`${nodeUrl}/v1/challenge`, env), 401, 'EXPIRED');
  });

  test('refuses a replayed message with REPLAYED', async () => {
    const env = await signMessage(privateKeyToAccount(validatorKey()), domain, 'Challenge', challenge());
    assert.equal((await post(`${nodeUrl}/v1/challenge`, env)).status, 200);
    await expectCode(post(`${nodeUrl}/v1/challenge`, env), 409, 'REPLAYED');
  });

  test('refuses a challenge signed by a key that is not a validator with NOT_REGISTERED', async () => {
    const stranger = privateKeyToAccount(generatePrivateKey());
    const env = await signMessage(stranger, domain, 'Challenge', challenge({ validator: stranger.address }));
    await expectCode(post(`${nodeUrl}/v1/challenge`, env), 403, 'NOT_REGISTERED');
  });

  test('refuses a challenge addressed to another node with WRONG_NODE', async () => {
    const env = await signMessage(
      privateKeyToAccount(validatorKey()),
      domain,
      'Challenge',
      challenge({ node: privateKeyToAccount(generatePrivateKey()).address }),
    );
    await expectCode(post(`${nodeUrl}/v1/challenge`, env), 400, 'WRONG_NODE');
  });

  test('refuses an oversized body with BODY_TOO_LARGE', () =>
    expectCode(
      post(`${nodeUrl}/v1/challenge`, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) })),
      413,
      'BODY_TOO_LARGE',
    ));

  test('answers unknown routes and wrong methods with NOT_FOUND and METHOD_NOT_ALLOWED', async () => {
    assert.equal((await fetch(`${nodeUrl}/v1/nope`)).status, 404);
    const r = await fetch(`${nodeUrl}/v1/challenge`);
    assert.equal(r.status, 405);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'METHOD_NOT_ALLOWED');
  });

  test('the validator refuses a malformed epoch, root or account with stable codes', async () => {
    const v = net.validators[0]!.url;
    const code = async (path: string) =>
      ((await (await fetch(`${v}${path}`)).json()) as { error: { code: string } }).error.code;
    assert.equal(await code('/v1/evidence/abc'), 'BAD_EPOCH');
    assert.equal(await code('/v1/epochs/-1'), 'BAD_EPOCH');
    assert.equal(await code('/v1/manifests/0x12'), 'BAD_ROOT');
    assert.equal(await code('/v1/rewards/0xnothex'), 'BAD_ADDRESS');
  });

  test('the validator refuses malformed placements and placements for deals not on chain', async () => {
    const v = net.validators[0]!.url;
    await expectCode(post(`${v}/v1/storage/placements`, { dealId: 'x' }), 400, 'BAD_PLACEMENT');
    const piece = {
      pieceId: `0x${'11'.repeat(32)}`,
      pieceRoot: `0x${'22'.repeat(32)}`,
      size: 10,
      node: nodeAddress,
      receipt: {},
    };
    await expectCode(
      post(`${v}/v1/storage/placements`, { dealId: '999', pieceIds: [piece.pieceId], pieces: [piece] }),
      404,
      'DEAL_UNKNOWN',
    );
  });

  test('both daemons keep serving after all of it', async () => {
    assert.equal((await fetch(`${nodeUrl}/health`)).status, 200);
    assert.equal((await fetch(`${net.validators[0]!.url}/health`)).status, 200);
    const env = await signMessage(privateKeyToAccount(validatorKey()), domain, 'Challenge', challenge());
    assert.equal((await post(`${nodeUrl}/v1/challenge`, env)).status, 200);
    const metrics = await (await fetch(`${nodeUrl}/metrics`)).text();
    assert.match(
      metrics,
      /depin_node_http_requests_total\{route="POST \/v1\/challenge",status="409"\} [1-9]/,
    );
  });
});
