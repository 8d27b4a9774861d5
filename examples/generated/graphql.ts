/* eslint-disable */
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
export type Maybe<T> = T | null;
export type InputMaybe<T> = T | null | undefined;
export type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
export type MakeOptional<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]?: Maybe<T[SubKey]> };
export type MakeMaybe<T, K extends keyof T> = Omit<T, K> & { [SubKey in K]: Maybe<T[SubKey]> };
export type MakeEmpty<T extends { [key: string]: unknown }, K extends keyof T> = { [_ in K]?: never };
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
/** All built-in and custom scalars, mapped to their actual values */
export type Scalars = {
  ID: { input: string; output: string; }
  String: { input: string; output: string; }
  Boolean: { input: boolean; output: boolean; }
  Int: { input: number; output: number; }
  Float: { input: number; output: number; }
  /** Any JSON value (a mapping document). */
  JSON: { input: any; output: any; }
};

/** Reference search parameters of AllergyIntolerance, for `_reference`. */
export type AllergyIntolerance_Reference_Param =
  /** `asserter`: points at Practitioner, Patient. */
  | 'asserter'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `recorder`: points at Practitioner, Patient. */
  | 'recorder';

/** Reference search parameters of Condition, for `_reference`. */
export type Condition_Reference_Param =
  /** `asserter`: points at Practitioner, Patient. */
  | 'asserter'
  /** `encounter`: points at Encounter. */
  | 'encounter'
  /** `evidence-detail`: points at AllergyIntolerance, Condition, DiagnosticReport, Encounter, Immunization, Location, MedicationRequest, Observation, Organization, Patient, Practitioner, Procedure. */
  | 'evidence_detail'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `subject`: points at Patient. */
  | 'subject';

/** Reference search parameters of DiagnosticReport, for `_reference`. */
export type DiagnosticReport_Reference_Param =
  /** `based-on`: points at MedicationRequest. */
  | 'based_on'
  /** `encounter`: points at Encounter. */
  | 'encounter'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `performer`: points at Practitioner, Organization. */
  | 'performer'
  /** `result`: points at Observation. */
  | 'result'
  /** `results-interpreter`: points at Practitioner, Organization. */
  | 'results_interpreter'
  /** `subject`: points at Patient, Location. */
  | 'subject';

/** Reference search parameters of Encounter, for `_reference`. */
export type Encounter_Reference_Param =
  /** `diagnosis`: points at Condition, Procedure. */
  | 'diagnosis'
  /** `location`: points at Location. */
  | 'location'
  /** `part-of`: points at Encounter. */
  | 'part_of'
  /** `participant`: points at Practitioner. */
  | 'participant'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `practitioner`: points at Practitioner. */
  | 'practitioner'
  /** `reason-reference`: points at Condition, Observation, Procedure. */
  | 'reason_reference'
  /** `service-provider`: points at Organization. */
  | 'service_provider'
  /** `subject`: points at Patient. */
  | 'subject';

/** Reference search parameters of Immunization, for `_reference`. */
export type Immunization_Reference_Param =
  /** `location`: points at Location. */
  | 'location'
  /** `manufacturer`: points at Organization. */
  | 'manufacturer'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `performer`: points at Practitioner, Organization. */
  | 'performer'
  /** `reaction`: points at Observation. */
  | 'reaction'
  /** `reason-reference`: points at Condition, Observation, DiagnosticReport. */
  | 'reason_reference';

/** Reference search parameters of Location, for `_reference`. */
export type Location_Reference_Param =
  /** `organization`: points at Organization. */
  | 'organization'
  /** `partof`: points at Location. */
  | 'partof';

/** Reference search parameters of MedicationRequest, for `_reference`. */
export type MedicationRequest_Reference_Param =
  /** `encounter`: points at Encounter. */
  | 'encounter'
  /** `intended-dispenser`: points at Organization. */
  | 'intended_dispenser'
  /** `intended-performer`: points at Practitioner, Organization, Patient. */
  | 'intended_performer'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `requester`: points at Practitioner, Organization, Patient. */
  | 'requester'
  /** `subject`: points at Patient. */
  | 'subject';

/** Reference search parameters of Observation, for `_reference`. */
export type Observation_Reference_Param =
  /** `based-on`: points at MedicationRequest. */
  | 'based_on'
  /** `derived-from`: points at Observation. */
  | 'derived_from'
  /** `encounter`: points at Encounter. */
  | 'encounter'
  /** `focus`: points at AllergyIntolerance, Condition, DiagnosticReport, Encounter, Immunization, Location, MedicationRequest, Observation, Organization, Patient, Practitioner, Procedure. */
  | 'focus'
  /** `has-member`: points at Observation. */
  | 'has_member'
  /** `part-of`: points at Immunization, Procedure. */
  | 'part_of'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `performer`: points at Practitioner, Organization, Patient. */
  | 'performer'
  /** `subject`: points at Patient, Location. */
  | 'subject';

/** Reference search parameters of Organization, for `_reference`. */
export type Organization_Reference_Param =
  /** `partof`: points at Organization. */
  | 'partof';

/** Reference search parameters of Patient, for `_reference`. */
export type Patient_Reference_Param =
  /** `general-practitioner`: points at Practitioner, Organization. */
  | 'general_practitioner'
  /** `link`: points at Patient. */
  | 'link'
  /** `organization`: points at Organization. */
  | 'organization';

/** Reference search parameters of Procedure, for `_reference`. */
export type Procedure_Reference_Param =
  /** `encounter`: points at Encounter. */
  | 'encounter'
  /** `location`: points at Location. */
  | 'location'
  /** `part-of`: points at Observation, Procedure. */
  | 'part_of'
  /** `patient`: points at Patient. */
  | 'patient'
  /** `performer`: points at Practitioner, Organization, Patient. */
  | 'performer'
  /** `reason-reference`: points at Condition, Observation, Procedure, DiagnosticReport. */
  | 'reason_reference'
  /** `subject`: points at Patient. */
  | 'subject';

/** The resource types this gateway serves. */
export type ResourceType =
  | 'AllergyIntolerance'
  | 'Condition'
  | 'DiagnosticReport'
  | 'Encounter'
  | 'Immunization'
  | 'Location'
  | 'MedicationRequest'
  | 'Observation'
  | 'Organization'
  | 'Patient'
  | 'Practitioner'
  | 'Procedure';

export type PatientBannerFragment = { __typename?: 'Patient', resourceType: string, id?: string | null, gender?: string | null, birthDate?: string | null, name?: Array<{ __typename?: 'HumanName', use?: string | null, family?: string | null, given?: Array<string> | null }> | null };

export type PatientByIdQueryVariables = Exact<{
  id: Scalars['ID']['input'];
}>;


export type PatientByIdQuery = { __typename?: 'Query', Patient?: { __typename?: 'Patient', resourceType: string, id?: string | null, gender?: string | null, birthDate?: string | null, name?: Array<{ __typename?: 'HumanName', use?: string | null, family?: string | null, given?: Array<string> | null }> | null } | null };

export type PatientSummaryQueryVariables = Exact<{
  id: Scalars['ID']['input'];
  encounters?: InputMaybe<Scalars['Int']['input']>;
  vitals?: InputMaybe<Scalars['Int']['input']>;
}>;


export type PatientSummaryQuery = { __typename?: 'Query', Patient?: { __typename?: 'Patient', resourceType: string, id?: string | null, gender?: string | null, birthDate?: string | null, EncounterList?: Array<{ __typename?: 'Encounter', resourceType: string, id?: string | null, status?: string | null, class?: { __typename?: 'Coding', code?: string | null, display?: string | null } | null, period?: { __typename?: 'Period', start?: string | null, end?: string | null } | null, reasonCode?: Array<{ __typename?: 'CodeableConcept', text?: string | null }> | null }> | null, ObservationList?: Array<{ __typename?: 'Observation', resourceType: string, id?: string | null, status?: string | null, effectiveDateTime?: string | null, code?: { __typename?: 'CodeableConcept', text?: string | null, coding?: Array<{ __typename?: 'Coding', system?: string | null, code?: string | null, display?: string | null }> | null } | null, valueQuantity?: { __typename?: 'Quantity', value?: number | null, unit?: string | null, code?: string | null } | null, component?: Array<{ __typename?: 'ObservationComponent', code?: { __typename?: 'CodeableConcept', coding?: Array<{ __typename?: 'Coding', system?: string | null, code?: string | null }> | null } | null, valueQuantity?: { __typename?: 'Quantity', value?: number | null, unit?: string | null, code?: string | null } | null }> | null }> | null, ConditionList?: Array<{ __typename?: 'Condition', resourceType: string, id?: string | null, onsetDateTime?: string | null, recordedDate?: string | null, clinicalStatus?: { __typename?: 'CodeableConcept', coding?: Array<{ __typename?: 'Coding', code?: string | null }> | null } | null, code?: { __typename?: 'CodeableConcept', text?: string | null, coding?: Array<{ __typename?: 'Coding', system?: string | null, code?: string | null, display?: string | null }> | null } | null }> | null, name?: Array<{ __typename?: 'HumanName', use?: string | null, family?: string | null, given?: Array<string> | null }> | null } | null };

export type SearchPatientsQueryVariables = Exact<{
  family?: InputMaybe<Array<Scalars['String']['input']> | Scalars['String']['input']>;
  count?: InputMaybe<Scalars['Int']['input']>;
  offset?: InputMaybe<Scalars['Int']['input']>;
}>;


export type SearchPatientsQuery = { __typename?: 'Query', PatientList?: Array<{ __typename?: 'Patient', resourceType: string, id?: string | null, gender?: string | null, birthDate?: string | null, identifier?: Array<{ __typename?: 'Identifier', system?: string | null, value?: string | null }> | null, name?: Array<{ __typename?: 'HumanName', use?: string | null, family?: string | null, given?: Array<string> | null }> | null }> | null };

export const PatientBannerFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PatientBanner"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Patient"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"use"}},{"kind":"Field","name":{"kind":"Name","value":"family"}},{"kind":"Field","name":{"kind":"Name","value":"given"}}]}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}}]}}]} as unknown as DocumentNode<PatientBannerFragment, unknown>;
export const PatientByIdDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PatientById"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"Patient"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"PatientBanner"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PatientBanner"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Patient"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"use"}},{"kind":"Field","name":{"kind":"Name","value":"family"}},{"kind":"Field","name":{"kind":"Name","value":"given"}}]}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}}]}}]} as unknown as DocumentNode<PatientByIdQuery, PatientByIdQueryVariables>;
export const PatientSummaryDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"PatientSummary"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"encounters"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"10"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"vitals"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"50"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"Patient"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"PatientBanner"}},{"kind":"Field","name":{"kind":"Name","value":"EncounterList"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"_reference"},"value":{"kind":"EnumValue","value":"subject"}},{"kind":"Argument","name":{"kind":"Name","value":"_count"},"value":{"kind":"Variable","name":{"kind":"Name","value":"encounters"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"class"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"display"}}]}},{"kind":"Field","name":{"kind":"Name","value":"period"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"start"}},{"kind":"Field","name":{"kind":"Name","value":"end"}}]}},{"kind":"Field","name":{"kind":"Name","value":"reasonCode"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"text"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"ObservationList"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"_reference"},"value":{"kind":"EnumValue","value":"subject"}},{"kind":"Argument","name":{"kind":"Name","value":"category"},"value":{"kind":"ListValue","values":[{"kind":"StringValue","value":"vital-signs","block":false}]}},{"kind":"Argument","name":{"kind":"Name","value":"_count"},"value":{"kind":"Variable","name":{"kind":"Name","value":"vitals"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"coding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"system"}},{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"display"}}]}},{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"effectiveDateTime"}},{"kind":"Field","name":{"kind":"Name","value":"valueQuantity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"unit"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}},{"kind":"Field","name":{"kind":"Name","value":"component"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"coding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"system"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"valueQuantity"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"value"}},{"kind":"Field","name":{"kind":"Name","value":"unit"}},{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"ConditionList"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"_reference"},"value":{"kind":"EnumValue","value":"subject"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"clinicalStatus"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"coding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"code"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"code"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"coding"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"system"}},{"kind":"Field","name":{"kind":"Name","value":"code"}},{"kind":"Field","name":{"kind":"Name","value":"display"}}]}},{"kind":"Field","name":{"kind":"Name","value":"text"}}]}},{"kind":"Field","name":{"kind":"Name","value":"onsetDateTime"}},{"kind":"Field","name":{"kind":"Name","value":"recordedDate"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PatientBanner"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Patient"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"use"}},{"kind":"Field","name":{"kind":"Name","value":"family"}},{"kind":"Field","name":{"kind":"Name","value":"given"}}]}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}}]}}]} as unknown as DocumentNode<PatientSummaryQuery, PatientSummaryQueryVariables>;
export const SearchPatientsDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"SearchPatients"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"family"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"count"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"20"}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"offset"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}},"defaultValue":{"kind":"IntValue","value":"0"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"PatientList"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"family"},"value":{"kind":"Variable","name":{"kind":"Name","value":"family"}}},{"kind":"Argument","name":{"kind":"Name","value":"_count"},"value":{"kind":"Variable","name":{"kind":"Name","value":"count"}}},{"kind":"Argument","name":{"kind":"Name","value":"_offset"},"value":{"kind":"Variable","name":{"kind":"Name","value":"offset"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"PatientBanner"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"system"}},{"kind":"Field","name":{"kind":"Name","value":"value"}}]}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"PatientBanner"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"Patient"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"resourceType"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"name"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"use"}},{"kind":"Field","name":{"kind":"Name","value":"family"}},{"kind":"Field","name":{"kind":"Name","value":"given"}}]}},{"kind":"Field","name":{"kind":"Name","value":"gender"}},{"kind":"Field","name":{"kind":"Name","value":"birthDate"}}]}}]} as unknown as DocumentNode<SearchPatientsQuery, SearchPatientsQueryVariables>;