-- fhirgate control-plane registry, SQLite (the embedded demo). Same tables and rules as
-- registry.sql; SQLite compares TEXT with BINARY collation by default, so client_id is exact.

CREATE TABLE IF NOT EXISTS fhirgate_tenants (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id     TEXT NOT NULL UNIQUE,
  display_name  TEXT NOT NULL DEFAULT '',
  db_type       TEXT NOT NULL CHECK (db_type IN ('mysql', 'postgres', 'sqlite')),
  db_url_sealed TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE IF NOT EXISTS fhirgate_mappings (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  tenant_id   INTEGER NOT NULL REFERENCES fhirgate_tenants (id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  document    TEXT NOT NULL CHECK (json_valid(document)),
  is_active   INTEGER NULL CHECK (is_active IS NULL OR is_active = 1),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  created_by  TEXT NULL,
  UNIQUE (tenant_id, version),
  UNIQUE (tenant_id, is_active)
);

-- HIPAA audit trail: one FHIR R4 AuditEvent (IHE BALP shape) per row, as JSON; see registry.sql.
CREATE TABLE IF NOT EXISTS fhirgate_audit_events (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  recorded_at TEXT NOT NULL,
  request_id  TEXT NOT NULL,
  client_id   TEXT NULL,
  kind        TEXT NOT NULL CHECK (kind IN ('read', 'search', 'denied', 'admin')),
  outcome     INTEGER NOT NULL CHECK (outcome IN (0, 4, 8, 12)),
  event       TEXT NOT NULL CHECK (json_valid(event)),
  chain_id    TEXT NOT NULL,
  chain_seq   INTEGER NOT NULL,
  prev_hash   TEXT NOT NULL,
  row_hash    TEXT NOT NULL,
  UNIQUE (chain_id, chain_seq)
);

CREATE INDEX IF NOT EXISTS ix_fhirgate_audit_events_recorded ON fhirgate_audit_events (recorded_at);

CREATE INDEX IF NOT EXISTS ix_fhirgate_audit_events_tenant ON fhirgate_audit_events (client_id, recorded_at);
