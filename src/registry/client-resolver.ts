import { registryError } from './errors';
import { OciClient, type OciClientOptions } from './oci-client';
import { normalizeHost } from './reference';
import { findRegistry, type RegistryConfig } from './registries.config';

export type ClientResolver = (host: string) => OciClient;

/**
 * `(host) => OciClient` over the configured registries, one client per host (so token caches and
 * the referrers probe are shared). An unconfigured host throws REGISTRY_NOT_CONFIGURED before any
 * request exists: a claim's `sub` can never make the service contact a host nobody configured.
 */
export function createClientResolver(configs: readonly RegistryConfig[], options: Omit<OciClientOptions, 'host'> = {}): ClientResolver {
  const clients = new Map<string, OciClient>();
  return (host: string) => {
    const key = normalizeHost(host) ?? host;
    let client = clients.get(key);
    if (!client) {
      const config = findRegistry(configs, host);
      if (!config) throw registryError('REGISTRY_NOT_CONFIGURED', `registry ${host} is not configured in REGISTRIES`, false, { host });
      client = new OciClient(config, { ...options, host });
      clients.set(key, client);
    }
    return client;
  };
}
