import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { privateKeyToAddress } from 'viem/accounts';
import { isDepinError } from '../core/errors.ts';
import { DEFAULT_SCRYPT, decryptKeystore, encryptKeystore } from './keystore.ts';

// The test vectors of the Web3 Secret Storage Definition (ethereum.org / the Ethereum wiki).
const VECTOR_KEY = '0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d';
const VECTOR_PASSWORD = 'testpassword';
const PBKDF2_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
    ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
    kdf: 'pbkdf2',
    kdfparams: {
      c: 262144,
      dklen: 32,
      prf: 'hmac-sha256',
      salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd',
    },
    mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};
const SCRYPT_VECTOR = {
  crypto: {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
    ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
    kdf: 'scrypt',
    kdfparams: {
      dklen: 32,
      n: 262144,
      p: 8,
      r: 1,
      salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19',
    },
    mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
  },
  id: '3198bc9c-6672-5ab3-d995-4942343ae5b6',
  version: 3,
};

const KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';
const CHEAP = { n: 1 << 10, r: 8, p: 1 }; // scrypt cost for tests only

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(isDepinError(e), String(e));
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('keystore', () => {
  test('decrypts the published PBKDF2 test vector', async () => {
    assert.equal(await decryptKeystore(PBKDF2_VECTOR, VECTOR_PASSWORD), VECTOR_KEY);
  });

  test('decrypts the published scrypt test vector, given as a JSON string', async () => {
    assert.equal(await decryptKeystore(JSON.stringify(SCRYPT_VECTOR), VECTOR_PASSWORD), VECTOR_KEY);
  });

  test('re-creates the published PBKDF2 vector byte for byte from its salt and IV', async () => {
    const json = await encryptKeystore(VECTOR_KEY, VECTOR_PASSWORD, {
      kdf: 'pbkdf2',
      salt: `0x${PBKDF2_VECTOR.crypto.kdfparams.salt}`,
      iv: `0x${PBKDF2_VECTOR.crypto.cipherparams.iv}`,
    });
    assert.equal(json.crypto.ciphertext, PBKDF2_VECTOR.crypto.ciphertext);
    assert.equal(json.crypto.mac, PBKDF2_VECTOR.crypto.mac);
  });

  test('writes a v3 file that wallets read: scrypt, AES-128-CTR, uuid v4, bare lower-case address', async () => {
    const json = await encryptKeystore(KEY, 'pw', { kdf: 'scrypt', ...CHEAP });
    assert.equal(json.version, 3);
    assert.match(json.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(json.address, privateKeyToAddress(KEY).slice(2).toLowerCase());
    assert.equal(json.crypto.cipher, 'aes-128-ctr');
    assert.equal(json.crypto.kdf, 'scrypt');
    assert.deepEqual(
      { ...json.crypto.kdfparams, salt: undefined },
      { dklen: 32, n: 1024, r: 8, p: 1, salt: undefined },
    );
    assert.match(json.crypto.cipherparams.iv, /^[0-9a-f]{32}$/);
    assert.match(json.crypto.ciphertext, /^[0-9a-f]{64}$/);
    assert.match(json.crypto.mac, /^[0-9a-f]{64}$/);
    const again = await encryptKeystore(KEY, 'pw', CHEAP);
    assert.notEqual(again.crypto.ciphertext, json.crypto.ciphertext, 'fresh salt and IV each time');
  });

  test('defaults to scrypt with n = 2^18, r = 8, p = 1', async () => {
    // Deriving at that cost takes seconds here: the default is checked as a constant, and a file
    // written without a cost is checked to carry it (with the constant lowered for the test).
    assert.deepEqual(DEFAULT_SCRYPT, { n: 262_144, r: 8, p: 1 });
    const json = await encryptKeystore(KEY, 'pw', { n: 1024 });
    assert.equal(json.crypto.kdf, 'scrypt');
    assert.deepEqual({ ...json.crypto.kdfparams, salt: '' }, { dklen: 32, n: 1024, r: 8, p: 1, salt: '' });
  });

  test('round-trips a key through scrypt and PBKDF2, unicode passwords included', async () => {
    for (const password of ['', 'correct horse battery staple', 'pässwörd ✓ 鍵']) {
      const scrypt = await encryptKeystore(KEY, password, CHEAP);
      assert.equal(await decryptKeystore(JSON.stringify(scrypt), password), KEY);
      const pbkdf2 = await encryptKeystore(KEY, password, { kdf: 'pbkdf2', c: 1000 });
      assert.equal(await decryptKeystore(pbkdf2, password), KEY);
    }
  });

  test('reads files that ethers wrote with an NFKC-normalised password', async () => {
    const typed = 'cafe\u0301'; // "café" with a combining accent, as some keyboards produce it
    const json = await encryptKeystore(KEY, typed.normalize('NFKC'), CHEAP);
    assert.equal(await decryptKeystore(json, typed), KEY);
  });

  test('refuses a wrong password with KEYSTORE_BAD_PASSWORD', async () => {
    const json = await encryptKeystore(KEY, 'right', CHEAP);
    await rejectsWith(decryptKeystore(json, 'wrong'), 'KEYSTORE_BAD_PASSWORD');
    await rejectsWith(decryptKeystore(PBKDF2_VECTOR, 'testpassword!'), 'KEYSTORE_BAD_PASSWORD');
  });

  test('refuses a tampered ciphertext as a bad password, since the MAC covers it', async () => {
    const json = await encryptKeystore(KEY, 'pw', CHEAP);
    const flipped = (json.crypto.ciphertext[0] === '0' ? '1' : '0') + json.crypto.ciphertext.slice(1);
    await rejectsWith(
      decryptKeystore({ ...json, crypto: { ...json.crypto, ciphertext: flipped } }, 'pw'),
      'KEYSTORE_BAD_PASSWORD',
    );
  });

  test('refuses malformed files with KEYSTORE_INVALID', async () => {
    const good = await encryptKeystore(KEY, 'pw', CHEAP);
    const bad: unknown[] = [
      'not json',
      '[]',
      { ...good, version: 1 },
      { ...good, crypto: undefined },
      { ...good, crypto: { ...good.crypto, cipher: 'aes-256-gcm' } },
      { ...good, crypto: { ...good.crypto, kdf: 'argon2' } },
      { ...good, crypto: { ...good.crypto, mac: 'abcd' } },
      { ...good, crypto: { ...good.crypto, ciphertext: 'zz' } },
      { ...good, crypto: { ...good.crypto, cipherparams: { iv: '00' } } },
      { ...good, crypto: { ...good.crypto, kdfparams: { ...good.crypto.kdfparams, n: 1000 } } },
      { ...good, crypto: { ...good.crypto, kdfparams: { ...good.crypto.kdfparams, n: 1 << 30 } } },
      { ...good, crypto: { ...good.crypto, kdfparams: { ...good.crypto.kdfparams, dklen: 16 } } },
      {
        ...PBKDF2_VECTOR,
        crypto: {
          ...PBKDF2_VECTOR.crypto,
          kdfparams: { ...PBKDF2_VECTOR.crypto.kdfparams, prf: 'hmac-sha1' },
        },
      },
      {
        ...PBKDF2_VECTOR,
        crypto: { ...PBKDF2_VECTOR.crypto, kdfparams: { ...PBKDF2_VECTOR.crypto.kdfparams, c: 1e9 } },
      },
    ];
    for (const file of bad) {
      await rejectsWith(decryptKeystore(file as object, 'pw'), 'KEYSTORE_INVALID');
    }
  });

  test('refuses a file whose address does not match the key inside with KEYSTORE_INVALID', async () => {
    const json = await encryptKeystore(KEY, 'pw', CHEAP);
    await rejectsWith(decryptKeystore({ ...json, address: 'ff'.repeat(20) }, 'pw'), 'KEYSTORE_INVALID');
  });

  test('accepts the capitalised Crypto key of old wallets', async () => {
    const { crypto, ...rest } = await encryptKeystore(KEY, 'pw', CHEAP);
    assert.equal(await decryptKeystore({ ...rest, Crypto: crypto }, 'pw'), KEY);
  });

  test('refuses to encrypt something that is not a private key', async () => {
    await rejectsWith(encryptKeystore('0x1234', 'pw', CHEAP), 'KEYSTORE_INVALID');
    await rejectsWith(encryptKeystore(`0x${'00'.repeat(32)}`, 'pw', CHEAP), 'KEYSTORE_INVALID');
  });
});
