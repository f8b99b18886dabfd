/** The Atlassian Cloud products a Connect app can be built for. */
export const CONNECT_PRODUCTS = ['jira', 'confluence'] as const;
export type ConnectProduct = (typeof CONNECT_PRODUCTS)[number];

export function isConnectProduct(value: unknown): value is ConnectProduct {
  return typeof value === 'string' && (CONNECT_PRODUCTS as readonly string[]).includes(value);
}
