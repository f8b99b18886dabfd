import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConnectError } from '../errors/connect-error.js';
import { MAKE_KEY_COMMAND } from '../config/resolve-connect-options.js';
import { readOrCreateDevKey, resolveSecretCipher } from './encryption-keys.js';
import { deriveKeyId, parseEncryptionKey } from '../config/encryption-key-option.js';
import { isUndecryptableSecretError, SecretCipher } from './secret-cipher.js';

const key = (): string => randomBytes(32).toString('base64');
const owner = { appKey: 'com.example.app', clientKey: 'client-1' };

function thrown(call: () => unknown): ConnectError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectError);
    return error as ConnectError;
  }
  throw new Error('did not throw');
}

describe('SecretCipher', () => {
  it('round-trips, with a fresh nonce per value and the documented format', () => {
    const cipher = SecretCipher.fromKeys([`k1:${key()}`]);
    const a = cipher.encrypt('s3cr3t-ÿ', owner);
    const b = cipher.encrypt('s3cr3t-ÿ', owner);
    expect(a).toMatch(/^v1\.k1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cr3t');
    expect(cipher.decrypt(a, owner)).toBe('s3cr3t-ÿ');
    expect(cipher.decrypt(b, owner)).toBe('s3cr3t-ÿ');
  });

  it('a value moved to another row does not decrypt (tenant identity is the associated data)', () => {
    const cipher = SecretCipher.fromKeys([key()]);
    const sealed = cipher.encrypt('secret', owner);
    for (const other of [
      { appKey: owner.appKey, clientKey: 'client-2' },
      { appKey: 'com.example.other', clientKey: owner.clientKey },
      // Framing is unambiguous: moving characters across the boundary is another identity.
      { appKey: 'com.example.appc', clientKey: 'lient-1' },
    ]) {
      const error = thrown(() => cipher.decrypt(sealed, other));
      expect(error.code).toBe('store/unavailable');
      expect(error.detail?.reason).toBe('secret/tampered');
      expect(isUndecryptableSecretError(error)).toBe(true);
    }
  });

  it('tampered ciphertext, nonce or tag fails', () => {
    const cipher = SecretCipher.fromKeys([key()]);
    const sealed = cipher.encrypt('secret', owner);
    const [v, kid, nonce, body] = sealed.split('.') as [string, string, string, string];
    const flip = (text: string, at: number): string => text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    for (const bad of [
      [v, kid, nonce, flip(body, 0)].join('.'),
      [v, kid, nonce, flip(body, body.length - 2)].join('.'),
      [v, kid, flip(nonce, 3), body].join('.'),
      [v, kid, nonce, body.slice(0, 22)].join('.'),
    ]) {
      expect(thrown(() => cipher.decrypt(bad, owner)).detail?.reason).toBe('secret/tampered');
    }
  });

  it('names an unknown key id clearly, never the value', () => {
    const old = SecretCipher.fromKeys([`old:${key()}`]);
    const sealed = old.encrypt('the-secret-value', owner);
    const error = thrown(() => SecretCipher.fromKeys([`new:${key()}`]).decrypt(sealed, owner));
    expect(error.detail).toMatchObject({ reason: 'secret/unknown-key', kid: 'old', clientKey: 'client-1' });
    expect(error.message).toContain('"old"');
    expect(error.message).toContain('CONNECT_ENCRYPTION_KEYS');
    expect(JSON.stringify({ m: error.message, d: error.detail })).not.toContain(sealed);
  });

  it('refuses plaintext', () => {
    const error = thrown(() => SecretCipher.fromKeys([key()]).decrypt('plain-secret', owner));
    expect(error.detail?.reason).toBe('secret/plaintext');
    expect(error.message).not.toContain('plain-secret');
  });

  it('rotation: the first key encrypts, every key decrypts', () => {
    const [k1, k2] = [`one:${key()}`, `two:${key()}`];
    const before = SecretCipher.fromKeys([k1]);
    const after = SecretCipher.fromKeys([k2, k1]);
    const old = before.encrypt('secret', owner);
    expect(after.decrypt(old, owner)).toBe('secret');
    expect(after.needsReencryption(old)).toBe(true);
    const fresh = after.encrypt('secret', owner);
    expect(SecretCipher.keyIdOf(fresh)).toBe('two');
    expect(after.needsReencryption(fresh)).toBe(false);
    expect(after.needsReencryption('plaintext')).toBe(true);
  });

  it('parses base64, base64url and kid:key; derives the kid from a hash of the key', () => {
    const raw = randomBytes(32);
    const b64 = parseEncryptionKey(raw.toString('base64'));
    const b64url = parseEncryptionKey(raw.toString('base64url'));
    expect(b64.key.equals(raw)).toBe(true);
    expect(b64url.key.equals(raw)).toBe(true);
    expect(b64.kid).toBe(deriveKeyId(raw));
    expect(b64.kid).toMatch(/^[A-Za-z0-9_-]{11}$/);
    expect(parseEncryptionKey(`k-2024:${raw.toString('base64')}`).kid).toBe('k-2024');
  });

  it('refuses bad keys without echoing them', () => {
    const short = randomBytes(16).toString('base64');
    for (const bad of [short, 'not base64!', `bad.kid:${key()}`, '']) {
      const error = thrown(() => SecretCipher.fromKeys([bad]));
      expect(error.code).toBe('config/invalid');
      if (bad !== '') expect(error.message).not.toContain(bad);
    }
    const same = key();
    expect(thrown(() => SecretCipher.fromKeys([same, same])).message).toMatch(/twice/);
    expect(thrown(() => SecretCipher.fromKeys([])).code).toBe('config/invalid');
  });
});

describe('resolveSecretCipher', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'connect-key-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('uses the configured keys and writes no file', async () => {
    const warnings: string[] = [];
    const file = join(dir, 'k');
    const cipher = await resolveSecretCipher({ keys: [`a:${key()}`, `b:${key()}`], devKeyFile: file }, { nodeEnv: 'production', warn: (m) => warnings.push(m) });
    expect(cipher.currentKid).toBe('a');
    expect(warnings).toEqual([]);
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses to start in production without a key, saying how to make one', async () => {
    for (const encryption of [undefined, { keys: [] }, { keys: [' '] }]) {
      const error = await resolveSecretCipher(encryption, { nodeEnv: 'production', warn: () => undefined }).then(
        () => undefined,
        (e: unknown) => e as ConnectError,
      );
      expect(error).toBeInstanceOf(ConnectError);
      expect(error?.code).toBe('config/invalid');
      expect(error?.message).toContain(MAKE_KEY_COMMAND);
      expect(error?.message).toContain(`require('crypto').randomBytes(32).toString('base64')`);
      expect(error?.message).toContain('CONNECT_ENCRYPTION_KEYS=');
    }
  });

  it('in development creates the key file once (mode 0600), reuses it, and warns once', async () => {
    const file = join(dir, 'nested', 'connect-encryption.key');
    const warnings: string[] = [];
    const context = { nodeEnv: 'development', warn: (m: string) => warnings.push(m) };
    const first = await resolveSecretCipher({ devKeyFile: file }, context);
    const content = await readFile(file, 'utf8');
    expect(Buffer.from(content.trim(), 'base64')).toHaveLength(32);
    if (process.platform !== 'win32') expect((await stat(file)).mode & 0o777).toBe(0o600);

    const second = await resolveSecretCipher({ devKeyFile: file }, context);
    expect(await readFile(file, 'utf8')).toBe(content);
    expect(second.currentKid).toBe(first.currentKid);
    expect(second.decrypt(first.encrypt('secret', owner), owner)).toBe('secret');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).not.toContain(content.trim());
  });

  it('concurrent creators agree on one key', async () => {
    const file = join(dir, 'race.key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => readOrCreateDevKey(file)));
    expect(new Set(keys).size).toBe(1);
    expect((await readFile(file, 'utf8')).trim()).toBe(keys[0]);
  });
});
