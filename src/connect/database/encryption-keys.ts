import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

import { CONNECT_DEFAULTS } from '../config/connect-defaults.js';
import { MAKE_KEY_COMMAND, NO_PRODUCTION_KEY } from '../config/resolve-connect-options.js';
import { ConnectError } from '../errors/connect-error.js';
import { SecretCipher } from './secret-cipher.js';

export interface ConnectEncryptionInput {
  /** Keys (`<base64 key>` or `<kid>:<base64 key>`, 32 bytes each); the first encrypts, all decrypt. */
  readonly keys?: readonly string[] | undefined;
  /** Development only: the file the generated key is kept in (default `.data/connect-encryption.key`). */
  readonly devKeyFile?: string | undefined;
}

export interface ResolveSecretCipherContext {
  /** `process.env.NODE_ENV`; `production` refuses to start without keys. */
  readonly nodeEnv: string | undefined;
  /** Told once per process and file when the development key is used. */
  readonly warn: (message: string) => void;
}

const warned = new Set<string>();

/**
 * The cipher for `encryption`: from the configured keys; in production without keys a `config/invalid`
 * error that says how to make one; otherwise a development key generated once into `devKeyFile`
 * (mode 0600) and reused after.
 */
export async function resolveSecretCipher(encryption: ConnectEncryptionInput | undefined, context: ResolveSecretCipherContext): Promise<SecretCipher> {
  const keys = (encryption?.keys ?? []).filter((key) => typeof key !== 'string' || key.trim() !== '');
  if (keys.length > 0) return SecretCipher.fromKeys(keys);
  if (context.nodeEnv === 'production') {
    throw ConnectError.create('config/invalid', NO_PRODUCTION_KEY);
  }
  const file = resolve(encryption?.devKeyFile ?? CONNECT_DEFAULTS.encryption.devKeyFile);
  const key = await readOrCreateDevKey(file);
  if (!warned.has(file)) {
    warned.add(file);
    context.warn(
      `No encryption key configured: tenant secrets are encrypted with a development key kept in ${file}. ` +
        `In production set CONNECT_ENCRYPTION_KEYS (make a key with ${MAKE_KEY_COMMAND}).`,
    );
  }
  return SecretCipher.fromKeys([key]);
}

/**
 * Reads the development key, creating it first when missing. The new key is written to a private temp
 * file and hard-linked into place, so concurrent processes agree on one key and never read half a file.
 */
export async function readOrCreateDevKey(file: string): Promise<string> {
  const existing = await readKeyFile(file);
  if (existing !== undefined) return existing;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await chmod(temp, 0o600); // in case the umask took bits away
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  const created = await readKeyFile(file);
  if (created === undefined) throw ConnectError.create('config/invalid', `The development key file ${file} is empty.`);
  return created;
}

async function readKeyFile(file: string): Promise<string | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
