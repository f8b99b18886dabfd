import type { Provider } from '@nestjs/common';
import { ConnectAuthGuard } from './connect-auth.guard.js';
import { ConnectTokenVerifier } from './jwt/connect-token-verifier.js';
import { InstallTokenVerifier } from './jwt/install-token-verifier.js';

/** Token verification: HS256 for requests and `enabled`/`disabled`, RS256 signed installs, and the `@ConnectAuth()` guard. */
export const authProviders: Provider[] = [ConnectTokenVerifier, InstallTokenVerifier, ConnectAuthGuard];
