/**
 * What counts as this machine. Plain http and relaxed checks are allowed only there (the test kit, the
 * simulator, local development), so both functions are strict: no DNS, no `*.localhost` names.
 */

/** A URL host name of this machine: `localhost`, `[::1]` or an address in 127.0.0.0/8. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A socket address of this machine: `::1`, `127.x.x.x` or its IPv4-mapped form `::ffff:127.x.x.x`. */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
