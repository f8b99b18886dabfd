import type { SecretOwner } from './secret-cipher.js';

/** Whose a stored Forge system token is: bound to the ciphertext, so a token copied to another row does not decrypt. */
export function systemTokenOwner(appKey: string, installationId: string): SecretOwner {
  return { appKey, clientKey: `forge-system-token:${installationId}` };
}
