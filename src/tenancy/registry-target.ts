import { readFileSync } from 'node:fs';
import type { RegistryTlsFiles } from '../config.js';
import { CONTROL_PLANE_SCHEMES, type DatabaseTarget, DatabaseUrlError } from './database-url.js';
import {
  connectionTarget,
  TenantConnectionError,
  type TlsPolicy,
  type TlsSettings,
} from './tenant-connection.js';

/**
 * The registry's (and the audit database's) connection target: its URL with the TLS settings of
 * `FHIRGATE_REGISTRY_TLS_*`, under the same default (`verify-full` off this machine) and the same
 * policy as tenant databases. PEM files are read here, once, at start.
 *
 * @throws DatabaseUrlError for the URL (PostgreSQL included); TenantConnectionError for a TLS setting, an unreadable
 *   file (its variable named, never its content) or a policy violation
 */
export function registryTarget(
  url: string,
  files: RegistryTlsFiles,
  policy: TlsPolicy,
): DatabaseTarget {
  const read = (path: string | undefined, variable: string): string | undefined => {
    if (path === undefined) {
      return undefined;
    }
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new TenantConnectionError(
        'DB_TLS_INVALID',
        `${variable} cannot be read (${typeof code === 'string' ? code : 'error'})`,
      );
    }
  };
  const tls: TlsSettings = {
    mode: files.mode,
    ca: read(files.caFile, 'FHIRGATE_REGISTRY_TLS_CA_FILE'),
    cert: read(files.certFile, 'FHIRGATE_REGISTRY_TLS_CERT_FILE'),
    key: read(files.keyFile, 'FHIRGATE_REGISTRY_TLS_KEY_FILE'),
    minVersion: files.minVersion,
  };
  const target = connectionTarget({ url, tls }, policy);
  if (target.kind === 'postgres') {
    throw new DatabaseUrlError('scheme', CONTROL_PLANE_SCHEMES);
  }
  return target;
}
