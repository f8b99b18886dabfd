import { PARAMTYPES_METADATA, PROPERTY_DEPS_METADATA, SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants.js';
import type { DiscoveryService, Reflector } from '@nestjs/core';
import { ForgeStorage } from '../storage/forge-storage.js';

/**
 * The providers and controllers that inject `ForgeStorage`, by name: through a constructor parameter
 * (its type, or `@Inject(ForgeStorage)`), an `@Inject()` property, or a factory's `inject` list. What
 * reaches it otherwise (`moduleRef.get(ForgeStorage)`) is not seen; the manifest's `storage` option says it.
 */
export function forgeStorageConsumers(discovery: DiscoveryService, reflector: Reflector): string[] {
  const names: string[] = [];
  for (const wrapper of [...discovery.getProviders(), ...discovery.getControllers()]) {
    const type = wrapper.metatype as unknown;
    if (typeof type !== 'function' || type === ForgeStorage) continue;
    const tokens: unknown[] = [
      ...(reflector.get<unknown[] | undefined>(PARAMTYPES_METADATA, type as never) ?? []),
      ...(reflector.get<{ param?: unknown }[] | undefined>(SELF_DECLARED_DEPS_METADATA, type as never) ?? []).map((dep) => dep.param),
      ...(reflector.get<{ type?: unknown }[] | undefined>(PROPERTY_DEPS_METADATA, type as never) ?? []).map((dep) => dep.type),
      ...(wrapper.inject ?? []).map((dep) => (typeof dep === 'object' && dep !== null && 'token' in dep ? dep.token : dep)),
    ];
    if (tokens.includes(ForgeStorage)) names.push(String(wrapper.name));
  }
  return names;
}
