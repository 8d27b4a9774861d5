import DataLoader from 'dataloader';
import type { TenantScope } from '../tenancy/tenant-scope.js';
import type { FhirJson } from './builder.js';

/**
 * The DataLoaders of one request. They are created with the request's context and die with it,
 * so their caches never outlive a request or cross a tenant.
 */
export interface RequestLoaders {
  /** Resources of one type by id: every `load` in one tick becomes one SQL statement. */
  byId(resourceType: string): DataLoader<string, FhirJson | null>;
}

export function createRequestLoaders(tenant: TenantScope): RequestLoaders {
  const byType = new Map<string, DataLoader<string, FhirJson | null>>();
  return {
    byId(resourceType) {
      let loader = byType.get(resourceType);
      if (loader === undefined) {
        const resource = tenant.runtime.mapping.resource(resourceType);
        loader = new DataLoader<string, FhirJson | null>(
          async (ids) => {
            if (resource === undefined) {
              return ids.map(() => null);
            }
            return resource.loadByIds(tenant.executor, ids);
          },
          { maxBatchSize: 500 },
        );
        byType.set(resourceType, loader);
      }
      return loader;
    },
  };
}
