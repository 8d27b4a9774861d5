import SchemaBuilder from '@pothos/core';
import type { GatewayContext } from '../context.js';

export type GatewaySchemaTypes = {
  Context: GatewayContext;
  Scalars: { ID: { Input: string; Output: string } };
  DefaultFieldNullability: true;
};

/** The builder's schema types, with the defaults Pothos adds to `GatewaySchemaTypes`. */
export type BuilderTypes = PothosSchemaTypes.ExtendDefaultTypes<GatewaySchemaTypes>;

export type GatewayBuilder = PothosSchemaTypesBuilder;
type PothosSchemaTypesBuilder = InstanceType<typeof SchemaBuilder<GatewaySchemaTypes>>;

/**
 * A fresh builder. The schema depends on which resource types are enabled, so each gateway builds
 * its own instead of sharing a module-level one.
 */
export function createBuilder(): GatewayBuilder {
  const builder = new SchemaBuilder<GatewaySchemaTypes>({});
  builder.queryType({});
  return builder;
}
