import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';

/**
 * FHIR R4 AuditEvent resources in the IHE Basic Audit Log Patterns (BALP) shape
 * (https://profiles.ihe.net/ITI/BALP/): one event per request that read tenant data, one per
 * denied access, one per admin action. What an event may hold is fixed here and nowhere else:
 * codes, the caller's issuer, subject, client id and token id (`jti`), resource references
 * (`Patient/123`), the request id and error codes. Never a search value, a name, a token, a URL
 * or any other part of a resource.
 */

/** The AuditEvent elements fhirgate writes (a subset of R4 AuditEvent). */
export interface AuditEventResource {
  readonly resourceType: 'AuditEvent';
  readonly id: string;
  readonly meta?: { readonly profile: readonly string[] };
  readonly type: Coding;
  readonly subtype?: readonly Coding[];
  readonly action: 'C' | 'R' | 'U' | 'D' | 'E';
  readonly recorded: string;
  /** `0` success, `4` minor failure (denied, partial), `8` serious failure. */
  readonly outcome: AuditOutcome;
  readonly outcomeDesc?: string;
  readonly agent: readonly AuditAgent[];
  readonly source: {
    readonly observer: { readonly display: string };
    readonly type: readonly Coding[];
  };
  readonly entity?: readonly AuditEntity[];
  /** The interval an aggregate row stands for (anonymous denials counted per address). */
  readonly period?: { readonly start: string; readonly end: string };
}

export type AuditOutcome = '0' | '4' | '8';

interface Coding {
  readonly system: string;
  readonly code: string;
  readonly display?: string;
}

interface AuditAgent {
  readonly type: { readonly coding: readonly Coding[] };
  readonly who: {
    readonly identifier?: { readonly system?: string; readonly value: string };
    readonly display?: string;
  };
  readonly requestor: boolean;
  readonly policy?: readonly string[];
  /** The client address (`type` 2: IP address). */
  readonly network?: { readonly address: string; readonly type: '2' };
}

interface AuditEntity {
  readonly query?: string;
  readonly what: {
    readonly reference?: string;
    readonly identifier?: { readonly system?: string; readonly value: string };
  };
  readonly type: Coding;
  readonly role?: Coding;
  readonly detail?: readonly { readonly type: string; readonly valueString: string }[];
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL = 'http://hl7.org/fhir/restful-interaction';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
/** Our own code system for admin actions: the action names the admin API passes. */
export const ADMIN_ACTION_SYSTEM = 'urn:fhirgate:audit:admin-action';
/** Identifier system of a tenant (its client id) when it is the target of an admin action. */
export const TENANT_SYSTEM = 'urn:fhirgate:tenant';

const REST: Coding = { system: EVENT_TYPE, code: 'rest', display: 'Restful Operation' };
const APPLICATION_ACTIVITY: Coding = {
  system: DCM,
  code: '110100',
  display: 'Application Activity',
};
const SOURCE_TYPE: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  code: '4',
  display: 'Application Server',
};
const PATIENT_ENTITY = {
  type: { system: ENTITY_TYPE, code: '1', display: 'Person' },
  role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
} as const;
const RESOURCE_ENTITY = {
  type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
  role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
} as const;
const REQUEST_ID_TYPE: Coding = {
  system: BALP_ENTITY_TYPE,
  code: 'XrequestId',
  display: 'transport specific unique identifier where http X-Request-Id is used',
};

/** Longest string copied from a token into an event (issuer, subject, client id, jti). */
const MAX_CLAIM = 255;

function clip(value: string): string {
  return value.length <= MAX_CLAIM ? value : value.slice(0, MAX_CLAIM);
}

/** Who asked: the user (`iss` + `sub`, `jti` as policy) and the client application (`client_id`). */
/** The verified caller and its client application; the caller's address when known (BALP). */
function principalAgents(principal: Principal, source?: string): AuditAgent[] {
  return [
    {
      type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
      who: { identifier: { system: clip(principal.issuer), value: clip(principal.subject) } },
      requestor: true,
      ...(principal.tokenId === undefined ? {} : { policy: [clip(principal.tokenId)] }),
      ...(source === undefined ? {} : { network: { address: clip(source), type: '2' as const } }),
    },
    {
      type: { coding: [{ system: DCM, code: '110150', display: 'Application' }] },
      who: { identifier: { value: clip(principal.clientId) } },
      requestor: false,
    },
  ];
}

/** A caller whose token did not verify: there is no trustworthy who, so none is claimed. */
const UNVERIFIED_AGENT: AuditAgent = {
  type: { coding: [{ system: PARTICIPATION, code: 'IRCP', display: 'information recipient' }] },
  who: { display: 'unverified caller' },
  requestor: true,
};

/**
 * The request: the gateway's own id, and the client's `X-Request-Id` (a correlation id it
 * chose, so never trusted to be unique) as a detail when it sent one.
 */
function requestEntity(requestId: string, correlationId?: string): AuditEntity {
  return {
    what: { identifier: { value: requestId } },
    type: REQUEST_ID_TYPE,
    ...(correlationId === undefined
      ? {}
      : { detail: [{ type: 'correlationId', valueString: clip(correlationId) }] }),
  };
}

/** The unverified caller, with its address when known. */
function unverifiedAgent(source: string | undefined): AuditAgent {
  return source === undefined
    ? UNVERIFIED_AGENT
    : { ...UNVERIFIED_AGENT, network: { address: clip(source), type: '2' } };
}

/**
 * One entity per distinct reference: patients with BALP's patient role, every other resource
 * as a domain resource. Duplicates (a patient read twice in one request) are dropped here,
 * once per request, so the read path only pushes strings.
 */
export function referenceEntities(references: readonly string[]): AuditEntity[] {
  const seen = new Set<string>();
  const entities: AuditEntity[] = [];
  for (const reference of references) {
    if (seen.has(reference)) {
      continue;
    }
    seen.add(reference);
    entities.push({
      what: { reference },
      ...(reference.startsWith('Patient/') ? PATIENT_ENTITY : RESOURCE_ENTITY),
    });
  }
  return entities;
}

export interface EventBase {
  /** The gateway's own request id. */
  readonly requestId: string;
  /** The client's `X-Request-Id`, when it sent one. */
  readonly correlationId?: string;
  /** The source observer: this gateway. */
  readonly sourceId: string;
  readonly now?: Date;
}

function base(input: EventBase) {
  return {
    resourceType: 'AuditEvent' as const,
    id: randomUUID(),
    recorded: (input.now ?? new Date()).toISOString(),
    source: { observer: { display: input.sourceId }, type: [SOURCE_TYPE] },
  };
}

/** The BALP profile of a read: query or read, about patients or not. */
function readProfile(search: boolean, patients: boolean): string {
  if (search) {
    return patients ? 'IHE.BasicAudit.PatientQuery' : 'IHE.BasicAudit.Query';
  }
  return patients ? 'IHE.BasicAudit.PatientRead' : 'IHE.BasicAudit.Read';
}

/**
 * A request that read tenant data (BALP PatientRead / PatientQuery): `read` with action `R` for
 * reads by id, `search-type` with action `E` when the operation searched. Every resource the
 * request read is an entity, each patient with the patient role; the request id is one more.
 * The readable definition of the event: the request path writes the same text directly with
 * {@link phiReadEventJson}, and the unit tests hold that text to this object.
 */
export function phiReadEvent(input: PhiReadInput): AuditEventResource {
  const listed = listedReferences(input.references, input.search);
  const references = referenceEntities(listed.references);
  const patients = references.some((e) => e.role === PATIENT_ENTITY.role);
  const profile = readProfile(input.search, patients);
  return {
    ...base(input),
    meta: { profile: [`${BALP}/${profile}`] },
    type: REST,
    subtype: [
      input.search
        ? { system: RESTFUL, code: 'search-type', display: 'search type' }
        : { system: RESTFUL, code: 'read', display: 'read' },
    ],
    action: input.search ? 'E' : 'R',
    outcome: input.outcome,
    ...(input.errorCodes === undefined || input.errorCodes.length === 0
      ? {}
      : { outcomeDesc: [...new Set(input.errorCodes)].join(' ') }),
    agent: principalAgents(input.principal, input.source),
    entity: [
      ...references,
      ...(input.search && input.query !== undefined ? [queryEntity(input.query)] : []),
      readRequestEntity(input, listed.notListed),
    ],
  };
}

/** Non-patient resources a read event lists at most; the rest are counted. */
export const MAX_LISTED_RESOURCES = 100;

/**
 * What a read event names (IHE BALP): a search names each patient whose data it returned and
 * the query, not every resource (the row would grow with the result: 8 MB for 30,000
 * resources); a read by id names the patients and up to {@link MAX_LISTED_RESOURCES} other
 * resources, the rest counted. Duplicates are dropped here, once per request.
 */
function listedReferences(
  all: readonly string[],
  search: boolean,
): { references: string[]; notListed: number } {
  const seen = new Set<string>();
  const references: string[] = [];
  let others = 0;
  let notListed = 0;
  for (const reference of all) {
    const patient = reference.startsWith('Patient/');
    // A search lists its patients only: the other references need no de-duplication.
    if ((search && !patient) || seen.has(reference)) {
      continue;
    }
    seen.add(reference);
    if (patient) {
      references.push(reference);
    } else if (!search && others < MAX_LISTED_RESOURCES) {
      others++;
      references.push(reference);
    } else if (!search) {
      notListed++;
    }
  }
  return { references, notListed };
}

/** BALP's query entity: the operation with every literal replaced (no search value), base64. */
function queryEntity(query: string) {
  return {
    what: { identifier: { value: 'graphql' } },
    type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
    role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
    query: Buffer.from(query, 'utf8').toString('base64'),
  };
}

function readRequestEntity(input: PhiReadInput, notListed: number): AuditEntity {
  const entity = requestEntity(input.requestId, input.correlationId);
  return notListed === 0
    ? entity
    : {
        ...entity,
        detail: [
          ...(entity.detail ?? []),
          { type: 'resourcesNotListed', valueString: String(notListed) },
        ],
      };
}

/** Input of {@link phiReadEvent} and {@link phiReadEventJson}. */
export type PhiReadInput = EventBase & {
  readonly principal: Principal;
  readonly search: boolean;
  readonly references: readonly string[];
  readonly outcome: AuditOutcome;
  /** Error codes of a partial result (never messages). */
  readonly errorCodes?: readonly string[];
  /** A search's operation with its literals masked (see `maskedOperation`). */
  readonly query?: string;
  /** The client address (the socket peer, or the client behind a trusted proxy). */
  readonly source?: string;
};

// The constant parts of a PHI read event as JSON text, serialized once.
const SOURCE_TYPE_JSON = JSON.stringify([SOURCE_TYPE]);
const REST_JSON = JSON.stringify(REST);
const SUBTYPE_JSON = {
  read: JSON.stringify([{ system: RESTFUL, code: 'read', display: 'read' }]),
  search: JSON.stringify([{ system: RESTFUL, code: 'search-type', display: 'search type' }]),
};
/** `"type":{...},"role":{...}` of a patient entity and of any other resource. */
const PATIENT_ENTITY_TAIL = JSON.stringify(PATIENT_ENTITY).slice(1, -1);
const RESOURCE_ENTITY_TAIL = JSON.stringify(RESOURCE_ENTITY).slice(1, -1);
/**
 * The agents of a principal as JSON, per client address: principals are per token, and a token
 * makes many requests, nearly always from one address (a few kept, in case it moves).
 */
const agentsJson = new WeakMap<Principal, Map<string, string>>();
const ADDRESSES_PER_PRINCIPAL = 4;

function agentsJsonOf(principal: Principal, source: string | undefined): string {
  let bySource = agentsJson.get(principal);
  if (bySource === undefined) {
    bySource = new Map();
    agentsJson.set(principal, bySource);
  }
  const key = source ?? '';
  let json = bySource.get(key);
  if (json === undefined) {
    json = JSON.stringify(principalAgents(principal, source));
    if (bySource.size >= ADDRESSES_PER_PRINCIPAL) {
      bySource.clear();
    }
    bySource.set(key, json);
  }
  return json;
}

/**
 * The JSON text of {@link phiReadEvent} for the same input, character for character (the unit
 * tests compare the two), and its `recorded` time. The request path uses this one: it writes
 * the constant codings as pre-serialized text and each entity with one template instead of
 * building and then serializing an object graph, whose cost grows with every entity.
 */
export function phiReadEventJson(input: PhiReadInput): { recorded: string; json: string } {
  const recorded = (input.now ?? new Date()).toISOString();
  const listed = listedReferences(input.references, input.search);
  // One join of all the parts: the text comes out flat once, and the chain's hash and the
  // INSERT read it as it is (text built by `+=` is a tree of parts that each of them would
  // flatten into a copy first).
  const parts: string[] = ['', ''];
  let patients = false;
  for (const reference of listed.references) {
    const patient = reference.startsWith('Patient/');
    patients ||= patient;
    parts.push(
      '{"what":{"reference":',
      JSON.stringify(reference),
      '},',
      patient ? PATIENT_ENTITY_TAIL : RESOURCE_ENTITY_TAIL,
      '},',
    );
  }
  const agents = agentsJsonOf(input.principal, input.source);
  const profile = readProfile(input.search, patients);
  const outcomeDesc =
    input.errorCodes === undefined || input.errorCodes.length === 0
      ? ''
      : `"outcomeDesc":${JSON.stringify([...new Set(input.errorCodes)].join(' '))},`;
  parts[0] =
    `{"resourceType":"AuditEvent","id":"${randomUUID()}","recorded":"${recorded}",` +
    `"source":{"observer":{"display":${JSON.stringify(input.sourceId)}},"type":${SOURCE_TYPE_JSON}},` +
    `"meta":{"profile":["${BALP}/${profile}"]},"type":${REST_JSON},` +
    `"subtype":${input.search ? SUBTYPE_JSON.search : SUBTYPE_JSON.read},` +
    `"action":"${input.search ? 'E' : 'R'}","outcome":${JSON.stringify(input.outcome)},${outcomeDesc}`;
  parts[1] = `"agent":${agents},"entity":[`;
  if (input.search && input.query !== undefined) {
    parts.push(JSON.stringify(queryEntity(input.query)), ',');
  }
  parts.push(JSON.stringify(readRequestEntity(input, listed.notListed)), ']}');
  return { recorded, json: parts.join('') };
}

/**
 * A refused request (401, 403, 429, or a field refused with FORBIDDEN). `code` is the gateway's
 * error code, `reason` a short machine reason for a token that did not verify (jose's code,
 * `missing-token`...). With no verified principal the event names no user.
 */
export function deniedAccessEvent(
  input: EventBase & {
    readonly code: string;
    readonly reason?: string;
    readonly principal?: Principal;
    readonly references?: readonly string[];
    /** The client address. */
    readonly source?: string;
  },
): AuditEventResource {
  return {
    ...base(input),
    type: REST,
    action: 'E',
    outcome: '4',
    outcomeDesc: input.reason === undefined ? input.code : `${input.code} ${clip(input.reason)}`,
    agent:
      input.principal === undefined
        ? [unverifiedAgent(input.source)]
        : principalAgents(input.principal, input.source),
    entity: [
      ...referenceEntities(input.references ?? []),
      requestEntity(input.requestId, input.correlationId),
    ],
  };
}

/**
 * The anonymous denials of one client address in one interval after its first (which has a
 * row of its own): one event with their count, per-code counts and the interval as `period`.
 * `requestId` is an id of the aggregate row itself.
 */
export function deniedAggregateEvent(
  input: EventBase & {
    readonly source: string;
    readonly count: number;
    readonly codes: ReadonlyMap<string, number>;
    readonly firstAt: number;
    readonly lastAt: number;
  },
): AuditEventResource {
  const codes = [...input.codes].map(([code, n]) => `${code}x${n}`).join(' ');
  return {
    ...base(input),
    type: REST,
    action: 'E',
    outcome: '4',
    outcomeDesc: clip(`aggregate ${codes}`),
    period: {
      start: new Date(input.firstAt).toISOString(),
      end: new Date(input.lastAt).toISOString(),
    },
    agent: [unverifiedAgent(input.source)],
    entity: [
      {
        ...requestEntity(input.requestId),
        detail: [{ type: 'deniedCount', valueString: String(input.count) }],
      },
    ],
  };
}

/**
 * See {@link AuditTrail.adminAction}. The shape matches the admin service's `AdminActionEvent`
 * (`src/admin/admin-service.ts`), so its `onAdminAction` listener can pass events straight in.
 */
export interface AdminActionInput {
  /** Who acted; undefined for an operator at the command line (then `operator` names them). */
  readonly principal: Principal | undefined;
  /** The operator's name for CLI actions (`$USER`), ignored when `principal` is set. */
  readonly operator?: string;
  /** A short stable action name: `reloadTenantConfig`, `activateTenantMapping`... */
  readonly action: string;
  /** C create, R read, U update, D delete, E execute. @default by action name, else 'E' */
  readonly crud?: 'C' | 'R' | 'U' | 'D' | 'E';
  /** The tenant client id acted on (never a URL, a mapping or other content). */
  readonly target?: string;
  /** Several tenants acted on (a reload of many). */
  readonly targets?: readonly string[];
  /** `success` 0; `refused`, `denied`, `rejected` 4 (nothing was done); `failed` 8. */
  readonly outcome: 'success' | 'refused' | 'denied' | 'rejected' | 'failed';
  /** The stable error code the caller got when the outcome is not success (`FORBIDDEN`). */
  readonly code?: string;
  /** Ids and counts only (`dryRun`, `version`, `problems`), kept as entity details. */
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
  readonly requestId: string;
}

const CRUD_BY_ACTION: Readonly<Record<string, AuditEventResource['action']>> = {
  activateTenantMapping: 'U',
  tenantStatus: 'R',
};

const ADMIN_ACTION = /^[A-Za-z][A-Za-z0-9._:-]{0,63}$/;

export function adminActionEvent(
  input: EventBase & { readonly admin: AdminActionInput },
): AuditEventResource {
  const { admin } = input;
  if (!ADMIN_ACTION.test(admin.action)) {
    throw new TypeError('adminAction: action must be a short name such as reloadConfig');
  }
  const outcome: AuditOutcome =
    admin.outcome === 'success' ? '0' : admin.outcome === 'failed' ? '8' : '4';
  const agents =
    admin.principal === undefined
      ? [
          {
            ...UNVERIFIED_AGENT,
            who: { display: clip(`operator ${admin.operator ?? 'unknown'}`) },
          },
        ]
      : principalAgents(admin.principal);
  const targets = new Set([
    ...(admin.target === undefined ? [] : [admin.target]),
    ...(admin.targets ?? []),
  ]);
  const detail = Object.entries(admin.detail ?? {}).map(([key, value]) => ({
    type: clip(key),
    valueString: clip(String(value)),
  }));
  return {
    ...base(input),
    type: APPLICATION_ACTIVITY,
    subtype: [{ system: ADMIN_ACTION_SYSTEM, code: admin.action }],
    action: admin.crud ?? CRUD_BY_ACTION[admin.action] ?? 'E',
    outcome,
    ...(admin.code === undefined ? {} : { outcomeDesc: clip(admin.code) }),
    agent: agents,
    entity: [
      ...[...targets].map((clientId) => ({
        what: { identifier: { system: TENANT_SYSTEM, value: clip(clientId) } },
        type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
        role: { system: OBJECT_ROLE, code: '13', display: 'Security Resource' },
        ...(detail.length === 0 ? {} : { detail }),
      })),
      requestEntity(input.requestId),
    ],
  };
}
