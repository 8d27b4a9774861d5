import { GraphQLError, Kind, type ValueNode, valueFromASTUntyped } from 'graphql';
import type { GatewayContext } from '../context.js';
import { gatewayError } from '../errors.js';
import type { GatewayBuilder } from '../graphql/builder.js';
import type { MappingProblem } from '../mapping/mapping-problem.js';
import type {
  AdminCaller,
  AdminService,
  MappingActivationResult,
  TenantReloadResult,
  TenantStatusResult,
} from './admin-service.js';

function callerOf(ctx: GatewayContext): AdminCaller {
  return { principal: ctx.principal, requestId: ctx.requestId, log: ctx.log };
}

function containsVariable(ast: ValueNode): boolean {
  switch (ast.kind) {
    case Kind.VARIABLE:
      return true;
    case Kind.LIST:
      return ast.values.some(containsVariable);
    case Kind.OBJECT:
      return ast.fields.some((field) => containsVariable(field.value));
    default:
      return false;
  }
}

/**
 * A `JSON` literal written inline in the operation. It takes one parameter on purpose:
 * graphql-jit cannot pass variables into a scalar's literal and, for a `parseLiteral` declaring
 * a second one, writes a plain-text `console.error` line outside the JSON log on every
 * compilation. A literal with a variable inside is refused at validation instead (send the
 * whole document as a variable, `$d: JSON!`), so no variable is ever silently dropped.
 */
function parseJsonLiteral(ast: ValueNode): unknown {
  if (containsVariable(ast)) {
    throw new GraphQLError(
      'A JSON literal cannot hold variables; pass the whole value as one variable.',
    );
  }
  return valueFromASTUntyped(ast);
}

/**
 * The admin fields: `Mutation.reloadTenantConfig`, `Mutation.activateTenantMapping`,
 * `Query.tenantStatus`, and the `JSON` scalar the mapping document travels in. The fields always
 * exist in the schema (it is a public contract); without an {@link AdminService} (the schema
 * printer, gateways built without one) they answer `FORBIDDEN`.
 */
export function registerAdminFields(
  builder: GatewayBuilder,
  admin: AdminService | undefined,
): void {
  const service = (): AdminService => {
    if (admin === undefined) {
      throw gatewayError('FORBIDDEN', 'Administration is not enabled on this gateway.');
    }
    return admin;
  };

  // The builder's scalar map is FHIR's; JSON is registered under its own name with ID's (string)
  // TypeScript shape, and resolvers treat the value as `unknown`.
  const Json = builder.scalarType('JSON' as 'ID', {
    description: 'Any JSON value (a mapping document).',
    serialize: (value) => value as string,
    parseValue: (value) => value as string,
    parseLiteral: (ast) => parseJsonLiteral(ast) as string,
  });

  const Problem = builder.objectRef<MappingProblem>('AdminMappingProblem').implement({
    description:
      'Something wrong with a mapping: where (resource, FHIR path, column), what, and whether it blocks activation.',
    fields: (t) => ({
      severity: t.string({
        nullable: false,
        description:
          '"error" blocks activation; "warning" (almost certainly a mistake, but possibly intended) does not.',
        resolve: (p) => p.severity ?? 'error',
      }),
      resource: t.exposeString('resource', { nullable: true }),
      path: t.exposeString('path', { nullable: true }),
      column: t.exposeString('column', { nullable: true }),
      message: t.exposeString('message', { nullable: false }),
    }),
  });

  const Activation = builder
    .objectRef<MappingActivationResult>('AdminMappingActivation')
    .implement({
      fields: (t) => ({
        clientId: t.exposeString('clientId', { nullable: false }),
        dryRun: t.exposeBoolean('dryRun', { nullable: false }),
        ok: t.exposeBoolean('ok', {
          nullable: false,
          description: 'The document passed every check (and, unless a dry run, is active now).',
        }),
        version: t.exposeInt('version', {
          nullable: true,
          description: 'The new active version; null after a dry run or on problems.',
        }),
        problems: t.field({
          type: [Problem],
          nullable: false,
          resolve: (r) => [...r.problems],
        }),
        published: t.exposeBoolean('published', {
          nullable: false,
          description: 'The reload went out to the other replicas through Redis.',
        }),
      }),
    });

  const Reload = builder.objectRef<TenantReloadResult>('AdminTenantReload').implement({
    fields: (t) => ({
      clientId: t.exposeString('clientId', { nullable: false }),
      mappingVersion: t.exposeInt('mappingVersion', { nullable: true }),
      published: t.exposeBoolean('published', { nullable: false }),
    }),
  });

  const Status = builder.objectRef<TenantStatusResult>('AdminTenantStatus').implement({
    description: "One tenant's health on the replica that answers.",
    fields: (t) => ({
      clientId: t.exposeString('clientId', { nullable: false }),
      status: t.exposeString('status', { nullable: false }),
      activeMappingVersion: t.exposeInt('activeMappingVersion', { nullable: true }),
      mappingVersion: t.exposeInt('mappingVersion', { nullable: true }),
      poolSize: t.exposeInt('poolSize', { nullable: false }),
      connectionsInUse: t.exposeInt('connectionsInUse', { nullable: false }),
      idleConnections: t.exposeInt('idleConnections', { nullable: false }),
      queueLength: t.exposeInt('queueLength', { nullable: false }),
      poolLimit: t.exposeInt('poolLimit', { nullable: false }),
      breakerState: t.exposeString('breakerState', { nullable: false }),
      lastErrorCode: t.exposeString('lastErrorCode', { nullable: true }),
      lastErrorAt: t.exposeString('lastErrorAt', { nullable: true }),
    }),
  });

  builder.mutationType({});
  builder.mutationFields((t) => ({
    reloadTenantConfig: t.field({
      type: Reload,
      nullable: false,
      description:
        "Reloads the tenant's registry entry and mapping on every replica (fhir-admin; own tenant unless platform admin).",
      args: { clientId: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => service().reloadTenantConfig(callerOf(ctx), args.clientId),
    }),
    activateTenantMapping: t.field({
      type: Activation,
      nullable: false,
      description:
        "Checks a mapping document against the tenant's live database; without errors (warnings are returned but do not block; unless dryRun) stores it as the next version, activates it and reloads it everywhere.",
      args: {
        clientId: t.arg.string({ required: true }),
        document: t.arg({ type: Json, required: true }),
        dryRun: t.arg.boolean({ required: false, defaultValue: false }),
      },
      resolve: (_root, args, ctx) =>
        service().activateTenantMapping(
          callerOf(ctx),
          args.clientId,
          args.document as unknown,
          args.dryRun ?? false,
        ),
    }),
  }));
  builder.queryFields((t) => ({
    tenantStatus: t.field({
      type: Status,
      nullable: false,
      description:
        "The tenant's pool, breaker, mapping version and last error on this replica (fhir-admin).",
      args: { clientId: t.arg.string({ required: true }) },
      resolve: (_root, args, ctx) => service().tenantStatus(callerOf(ctx), args.clientId),
    }),
  }));
}
