import { errors } from 'jose';
import { ConnectError } from '../../errors/connect-error.js';

/** Translates what jose throws while verifying into our typed errors. */
export function fromJoseError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof errors.JWTExpired) return ConnectError.create('jwt/expired', 'The JWT has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if ((error.claim === 'nbf' || error.claim === 'iat') && error.reason === 'check_failed') {
      return ConnectError.create('jwt/not-yet-valid', `The JWT is not valid yet (${error.claim} is in the future).`);
    }
    if (error.claim === 'aud') return ConnectError.create('jwt/invalid-aud', 'The JWT audience (aud) is not this app.');
    if (error.claim === 'exp') return ConnectError.create('jwt/malformed', 'The JWT has no valid expiry (exp).');
    return ConnectError.create('jwt/malformed', `The JWT claim "${error.claim}" is invalid.`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return ConnectError.create('jwt/invalid-signature', 'The JWT signature does not verify.');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return ConnectError.create('jwt/unsupported-alg', 'The JWT algorithm is not accepted here.');
  return ConnectError.create('jwt/malformed', 'The JWT could not be parsed.');
}
