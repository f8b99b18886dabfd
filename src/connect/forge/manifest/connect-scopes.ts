import type { ConnectProduct } from '../../config/connect-product.js';
import { ConnectError } from '../../errors/connect-error.js';

/**
 * Connect descriptor scopes as the manifest declares them. The manifest reference's Permissions page says
 * a Connect app that adopted Forge lists its legacy Connect scopes in `permissions.scopes`; their names
 * are the `<scope>:connect-<product>` entries of the scope list `@forge/manifest` validates against
 * (`read:connect-jira`, `act-as-user:connect-confluence`, …).
 */
const CONNECT_SCOPE_NAMES: Readonly<Record<string, { name: string; products: readonly ConnectProduct[] }>> = {
  READ: { name: 'read', products: ['jira', 'confluence'] },
  WRITE: { name: 'write', products: ['jira', 'confluence'] },
  DELETE: { name: 'delete', products: ['jira', 'confluence'] },
  ADMIN: { name: 'admin', products: ['jira', 'confluence'] },
  ACT_AS_USER: { name: 'act-as-user', products: ['jira', 'confluence'] },
  ACCESS_EMAIL_ADDRESSES: { name: 'access-email-addresses', products: ['jira', 'confluence'] },
  PROJECT_ADMIN: { name: 'project-admin', products: ['jira'] },
  SPACE_ADMIN: { name: 'space-admin', products: ['confluence'] },
};

/** The Forge names of a descriptor's `scopes` (case-insensitive, as Connect reads them), in order, without repeats. */
export function forgeScopesOfConnect(scopes: unknown, product: ConnectProduct, appKey: string): string[] {
  if (scopes === undefined) return [];
  if (!Array.isArray(scopes)) throw ConnectError.create('forge/invalid-manifest', `The descriptor of "${appKey}" has scopes that are not a list.`);
  const names: string[] = [];
  for (const scope of scopes as unknown[]) {
    const known = typeof scope === 'string' ? CONNECT_SCOPE_NAMES[scope.toUpperCase()] : undefined;
    if (known === undefined || !known.products.includes(product)) {
      throw ConnectError.create(
        'forge/invalid-manifest',
        `The descriptor of "${appKey}" declares the scope ${JSON.stringify(scope)}, which is not a Connect scope of ${product} (${Object.keys(CONNECT_SCOPE_NAMES)
          .filter((name) => CONNECT_SCOPE_NAMES[name]!.products.includes(product))
          .join(', ')}).`,
      );
    }
    const name = `${known.name}:connect-${product}`;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}
