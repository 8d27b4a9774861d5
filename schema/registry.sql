-- fhirgate control-plane registry, MySQL 8 / MariaDB 10.6+.
-- Applied by `fhirgate tenant add` (first use), the embedded demo and the test helpers; every statement is idempotent.
-- Tenant database URLs are stored sealed (AES-256-GCM, `v1.<kid>.<payload>`, client_id bound as
-- associated data), never in plain text.

CREATE TABLE IF NOT EXISTS fhirgate_tenants (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  -- Matched byte for byte against the token's tenant claim (binary collation: case matters).
  client_id     VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
  display_name  VARCHAR(255) NOT NULL DEFAULT '',
  db_type       VARCHAR(16) NOT NULL,
  db_url_sealed TEXT NOT NULL,
  status        VARCHAR(16) NOT NULL DEFAULT 'active',
  created_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at    TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_fhirgate_tenants_client_id (client_id),
  CONSTRAINT ck_fhirgate_tenants_db_type CHECK (db_type IN ('mysql', 'postgres', 'sqlite')),
  CONSTRAINT ck_fhirgate_tenants_status CHECK (status IN ('active', 'disabled'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Versioned mapping documents. Versions are immutable; exactly one row per tenant has
-- is_active = 1 (the others NULL, which the unique key allows any number of).
CREATE TABLE IF NOT EXISTS fhirgate_mappings (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  tenant_id   BIGINT UNSIGNED NOT NULL,
  version     INT UNSIGNED NOT NULL,
  document    LONGTEXT NOT NULL,
  is_active   TINYINT(1) NULL,
  created_at  TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  created_by  VARCHAR(255) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_fhirgate_mappings_version (tenant_id, version),
  UNIQUE KEY uq_fhirgate_mappings_active (tenant_id, is_active),
  CONSTRAINT fk_fhirgate_mappings_tenant FOREIGN KEY (tenant_id)
    REFERENCES fhirgate_tenants (id) ON DELETE CASCADE,
  CONSTRAINT ck_fhirgate_mappings_active CHECK (is_active IS NULL OR is_active = 1),
  CONSTRAINT ck_fhirgate_mappings_document CHECK (JSON_VALID(document))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- HIPAA audit trail (45 CFR 164.312(b)): one FHIR R4 AuditEvent (IHE BALP shape) per row, as
-- JSON. Rows hold resource references, codes and ids, never PHI beyond references. The gateway
-- only ever INSERTs here: grant its database user INSERT on this table and no UPDATE or DELETE.
-- Written in batches, one multi-row INSERT per group commit.
CREATE TABLE IF NOT EXISTS fhirgate_audit_events (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  recorded_at DATETIME(3) NOT NULL,
  request_id  VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  -- The tenant the event concerns; NULL for a caller whose token did not verify.
  client_id   VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
  kind        VARCHAR(16) NOT NULL,
  outcome     TINYINT UNSIGNED NOT NULL,
  event       LONGTEXT NOT NULL,
  -- Tamper evidence: each writer process keeps one hash chain (chain_id), numbered by chain_seq;
  -- row_hash = SHA-256 over prev_hash and the row's content (see src/audit/audit-chain.ts).
  chain_id    CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  chain_seq   BIGINT UNSIGNED NOT NULL,
  prev_hash   CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  row_hash    CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY ux_fhirgate_audit_events_chain (chain_id, chain_seq),
  KEY ix_fhirgate_audit_events_recorded (recorded_at),
  KEY ix_fhirgate_audit_events_tenant (client_id, recorded_at),
  KEY ix_fhirgate_audit_events_request (request_id),
  CONSTRAINT ck_fhirgate_audit_events_kind CHECK (kind IN ('read', 'search', 'denied', 'admin')),
  CONSTRAINT ck_fhirgate_audit_events_outcome CHECK (outcome IN (0, 4, 8, 12)),
  CONSTRAINT ck_fhirgate_audit_events_event CHECK (JSON_VALID(event))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
