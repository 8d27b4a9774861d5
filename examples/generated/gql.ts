/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment PatientBanner on Patient {\n  resourceType\n  id\n  name {\n    use\n    family\n    given\n  }\n  gender\n  birthDate\n}": typeof types.PatientBannerFragmentDoc,
    "query PatientById($id: ID!) {\n  Patient(id: $id) {\n    ...PatientBanner\n  }\n}": typeof types.PatientByIdDocument,
    "query PatientSummary($id: ID!, $encounters: Int = 10, $vitals: Int = 50) {\n  Patient(id: $id) {\n    ...PatientBanner\n    EncounterList(_reference: subject, _count: $encounters) {\n      resourceType\n      id\n      status\n      class {\n        code\n        display\n      }\n      period {\n        start\n        end\n      }\n      reasonCode {\n        text\n      }\n    }\n    ObservationList(_reference: subject, category: [\"vital-signs\"], _count: $vitals) {\n      resourceType\n      id\n      status\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      effectiveDateTime\n      valueQuantity {\n        value\n        unit\n        code\n      }\n      component {\n        code {\n          coding {\n            system\n            code\n          }\n        }\n        valueQuantity {\n          value\n          unit\n          code\n        }\n      }\n    }\n    ConditionList(_reference: subject) {\n      resourceType\n      id\n      clinicalStatus {\n        coding {\n          code\n        }\n      }\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      onsetDateTime\n      recordedDate\n    }\n  }\n}": typeof types.PatientSummaryDocument,
    "query SearchPatients($family: [String!], $count: Int = 20, $offset: Int = 0) {\n  PatientList(family: $family, _count: $count, _offset: $offset) {\n    ...PatientBanner\n    identifier {\n      system\n      value\n    }\n  }\n}": typeof types.SearchPatientsDocument,
};
const documents: Documents = {
    "fragment PatientBanner on Patient {\n  resourceType\n  id\n  name {\n    use\n    family\n    given\n  }\n  gender\n  birthDate\n}": types.PatientBannerFragmentDoc,
    "query PatientById($id: ID!) {\n  Patient(id: $id) {\n    ...PatientBanner\n  }\n}": types.PatientByIdDocument,
    "query PatientSummary($id: ID!, $encounters: Int = 10, $vitals: Int = 50) {\n  Patient(id: $id) {\n    ...PatientBanner\n    EncounterList(_reference: subject, _count: $encounters) {\n      resourceType\n      id\n      status\n      class {\n        code\n        display\n      }\n      period {\n        start\n        end\n      }\n      reasonCode {\n        text\n      }\n    }\n    ObservationList(_reference: subject, category: [\"vital-signs\"], _count: $vitals) {\n      resourceType\n      id\n      status\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      effectiveDateTime\n      valueQuantity {\n        value\n        unit\n        code\n      }\n      component {\n        code {\n          coding {\n            system\n            code\n          }\n        }\n        valueQuantity {\n          value\n          unit\n          code\n        }\n      }\n    }\n    ConditionList(_reference: subject) {\n      resourceType\n      id\n      clinicalStatus {\n        coding {\n          code\n        }\n      }\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      onsetDateTime\n      recordedDate\n    }\n  }\n}": types.PatientSummaryDocument,
    "query SearchPatients($family: [String!], $count: Int = 20, $offset: Int = 0) {\n  PatientList(family: $family, _count: $count, _offset: $offset) {\n    ...PatientBanner\n    identifier {\n      system\n      value\n    }\n  }\n}": types.SearchPatientsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment PatientBanner on Patient {\n  resourceType\n  id\n  name {\n    use\n    family\n    given\n  }\n  gender\n  birthDate\n}"): (typeof documents)["fragment PatientBanner on Patient {\n  resourceType\n  id\n  name {\n    use\n    family\n    given\n  }\n  gender\n  birthDate\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query PatientById($id: ID!) {\n  Patient(id: $id) {\n    ...PatientBanner\n  }\n}"): (typeof documents)["query PatientById($id: ID!) {\n  Patient(id: $id) {\n    ...PatientBanner\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query PatientSummary($id: ID!, $encounters: Int = 10, $vitals: Int = 50) {\n  Patient(id: $id) {\n    ...PatientBanner\n    EncounterList(_reference: subject, _count: $encounters) {\n      resourceType\n      id\n      status\n      class {\n        code\n        display\n      }\n      period {\n        start\n        end\n      }\n      reasonCode {\n        text\n      }\n    }\n    ObservationList(_reference: subject, category: [\"vital-signs\"], _count: $vitals) {\n      resourceType\n      id\n      status\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      effectiveDateTime\n      valueQuantity {\n        value\n        unit\n        code\n      }\n      component {\n        code {\n          coding {\n            system\n            code\n          }\n        }\n        valueQuantity {\n          value\n          unit\n          code\n        }\n      }\n    }\n    ConditionList(_reference: subject) {\n      resourceType\n      id\n      clinicalStatus {\n        coding {\n          code\n        }\n      }\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      onsetDateTime\n      recordedDate\n    }\n  }\n}"): (typeof documents)["query PatientSummary($id: ID!, $encounters: Int = 10, $vitals: Int = 50) {\n  Patient(id: $id) {\n    ...PatientBanner\n    EncounterList(_reference: subject, _count: $encounters) {\n      resourceType\n      id\n      status\n      class {\n        code\n        display\n      }\n      period {\n        start\n        end\n      }\n      reasonCode {\n        text\n      }\n    }\n    ObservationList(_reference: subject, category: [\"vital-signs\"], _count: $vitals) {\n      resourceType\n      id\n      status\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      effectiveDateTime\n      valueQuantity {\n        value\n        unit\n        code\n      }\n      component {\n        code {\n          coding {\n            system\n            code\n          }\n        }\n        valueQuantity {\n          value\n          unit\n          code\n        }\n      }\n    }\n    ConditionList(_reference: subject) {\n      resourceType\n      id\n      clinicalStatus {\n        coding {\n          code\n        }\n      }\n      code {\n        coding {\n          system\n          code\n          display\n        }\n        text\n      }\n      onsetDateTime\n      recordedDate\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query SearchPatients($family: [String!], $count: Int = 20, $offset: Int = 0) {\n  PatientList(family: $family, _count: $count, _offset: $offset) {\n    ...PatientBanner\n    identifier {\n      system\n      value\n    }\n  }\n}"): (typeof documents)["query SearchPatients($family: [String!], $count: Int = 20, $offset: Int = 0) {\n  PatientList(family: $family, _count: $count, _offset: $offset) {\n    ...PatientBanner\n    identifier {\n      system\n      value\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;