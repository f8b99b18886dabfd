#!/usr/bin/env node
// Atlassian's qsh interoperability vectors (the 79 of atlassian-jwt's signed-URL suite, kept in this repo
// at src/connect/auth/jwt/atlassian-interop-vectors.json) against the BUILT package, through its public
// entry, the way an app would call it. Each vector passes when:
//   - canonicalRequest(method, signedUrl, baseUrl) is the vector's canonical request,
//   - queryStringHash(...) is the SHA-256 of it, and so is the qsh claim of the vector's token,
//   - the token's HS256 signature verifies with the vector's shared secret.
// Run `npm run interop` (it builds first). Exits 1 when a vector fails.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const entry = manifest.exports['.'].default;
const { canonicalRequest, queryStringHash } = await import(pathToFileURL(join(root, entry)).href);
const { secret, tests } = JSON.parse(readFileSync(join(root, 'src/connect/auth/jwt/atlassian-interop-vectors.json'), 'utf8'));

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

function signatureVerifies(token) {
  const [header, payload, signature] = token.split('.');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const failures = [];
for (const vector of tests) {
  const method = vector.canonicalUrl.split('&')[0];
  // Vectors with an add-on base URL sign paths relative to it (its path is stripped before hashing).
  const baseUrl = vector.addonBaseUrl ? `https://example.com${vector.addonBaseUrl}` : undefined;
  const token = new URL(vector.signedUrl).searchParams.get('jwt');
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  const wanted = sha256(vector.canonicalUrl);
  const problems = [];
  let canonical;
  try {
    canonical = canonicalRequest(method, vector.signedUrl, baseUrl);
    if (canonical !== vector.canonicalUrl) problems.push(`canonical request ${JSON.stringify(canonical)}, expected ${JSON.stringify(vector.canonicalUrl)}`);
    if (queryStringHash(method, vector.signedUrl, baseUrl) !== wanted) problems.push('queryStringHash is not the SHA-256 of the canonical request');
  } catch (error) {
    problems.push(`threw ${error instanceof Error ? error.message : String(error)}`);
  }
  if (claims.qsh !== wanted) problems.push("the token's qsh claim is not the hash of the vector's canonical request (a broken vector)");
  if (!signatureVerifies(token)) problems.push('the token does not verify with the shared secret (a broken vector)');
  if (problems.length > 0) failures.push(`${vector.name}: ${problems.join('; ')}`);
}

for (const failure of failures) console.log(`FAIL ${failure}`);
console.log(`Atlassian qsh vectors: ${tests.length - failures.length} of ${tests.length} passed.`);
process.exit(failures.length === 0 ? 0 : 1);
