/**
 * An Isolated Cloud label: the top-level `icLabel` of a Forge Invocation Token from an Isolated Cloud
 * environment (such as `orange`), and the keys of `forge.isolatedCloudJwksUrls`. Only lower-case letters,
 * digits, `_` and `-`, at most 50: it picks a configured key set and is shown in messages, nothing more.
 */
const ISOLATED_CLOUD_LABEL = /^[a-z0-9_-]{1,50}$/;

export function isIsolatedCloudLabel(value: unknown): value is string {
  return typeof value === 'string' && ISOLATED_CLOUD_LABEL.test(value);
}
