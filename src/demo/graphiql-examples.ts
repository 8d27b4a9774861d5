/**
 * The tabs GraphiQL opens with in demo mode: one example per thing a newcomer asks about first.
 * Each runs against the demo hospitals as written (`test/integration/demo-graphiql.int.test.ts`
 * runs them all), and the first one is what the browser test clicks.
 */

export interface GraphiQLExample {
  /** The tab's text: comments, then the operation(s). */
  readonly query: string;
  /** JSON text for the variables editor, or absent. */
  readonly variables?: string;
}

const WELCOME = `# Welcome to the fhirgate demo.
#
# You are hospital-a, an invented hospital on SQLite
# with 225 patients, their visits and their care.
# The Headers tab holds a demo token for it (roles
# fhir-read and fhir-admin, valid for an hour). Reload
# the page for a new one; that also resets these tabs.
# With a real deployment nothing is prefilled: put
#   {"Authorization": "Bearer <your token>"}
# into the Headers tab yourself.
#
# Run a query with the play button (or Ctrl-Enter).
# The other tabs: vital signs and their patient,
# reverse references, paging, an admin reload.
# Documentation: docs/api.md in the repository.
`;

export const GRAPHIQL_EXAMPLES: readonly GraphiQLExample[] = [
  {
    query: `${WELCOME}
# Patients named Soto: names and identifiers
# (the hospital's RUT). Names go through as typed:
# try family: "O'Brien" or family: "Nguyễn".
query PatientsWithIdentifiers {
  PatientList(family: "Soto", _count: 5) {
    id
    name {
      use
      family
      given
    }
    identifier {
      system
      value
    }
    gender
    birthDate
  }
}
`,
  },
  {
    query: `# Vital signs with the patient they are about:
# subject.resource follows the reference, batched into
# one statement for all rows.
query VitalsWithPatient {
  ObservationList(category: "vital-signs", _sort: "-date", _count: 5) {
    id
    code {
      coding {
        system
        code
        display
      }
    }
    valueQuantity {
      value
      unit
    }
    effectiveDateTime
    subject {
      reference
      resource {
        ... on Patient {
          name {
            family
            given
          }
        }
      }
    }
  }
}
`,
  },
  {
    query: `# Reverse references: everything that points at one patient.
query PatientRecord {
  Patient(id: "1") {
    name {
      family
      given
    }
    ConditionList(_reference: patient) {
      code {
        text
      }
      clinicalStatus {
        coding {
          code
        }
      }
    }
    ObservationList(_reference: subject, _sort: "-date", _count: 3) {
      code {
        text
      }
      valueQuantity {
        value
        unit
      }
    }
    AllergyIntoleranceList(_reference: patient) {
      code {
        text
      }
      criticality
    }
  }
}
`,
  },
  {
    query: `# Paging: run FirstPage, copy "next" from its answer
# into the Variables tab, then run NextPage (the play
# button asks which operation to run). A cursor only
# fits the search that made it, so NextPage repeats
# the arguments.
query FirstPage {
  PatientConnection(_count: 2, _sort: "family") {
    count
    next
    edges {
      resource {
        id
        name {
          family
        }
      }
    }
  }
}

query NextPage($cursor: String!) {
  PatientConnection(_count: 2, _sort: "family", _cursor: $cursor) {
    offset
    next
    previous
    edges {
      resource {
        id
        name {
          family
        }
      }
    }
  }
}
`,
    variables: '{\n  "cursor": "paste the next cursor from FirstPage here"\n}',
  },
  {
    query: `# Administration (needs the fhir-admin role): reload
# this tenant's registry entry and mapping on every
# replica, after a change made with the fhirgate CLI.
mutation ReloadTenant {
  reloadTenantConfig(clientId: "hospital-a") {
    clientId
    mappingVersion
    published
  }
}
`,
  },
];
