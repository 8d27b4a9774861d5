#!/bin/sh
# One-shot job of docker-compose.yml, run in the gateway image before the gateway starts:
# registers the two compose hospitals in the registry with `fhirgate tenant add`, which seals each
# database URL with FHIRGATE_ENCRYPTION_KEY, checks the mapping against the live hospital
# database and stores it as the active version. Running it again (a second `docker compose up`)
# skips tenants that are already registered. Nothing it prints contains a URL or a password.
set -eu
umask 077

# The URL goes through a file on the container's tmpfs, not the command line (process list).
url_file=$(mktemp)
trap 'rm -f "$url_file"' EXIT

register() {
  client_id=$1
  name=$2
  url=$3
  mapping=$4
  if fhirgate tenant list | grep -Eq "^${client_id}[[:space:]]"; then
    echo "register-tenants: ${client_id} is already registered"
    return 0
  fi
  printf '%s' "${url}" >"${url_file}"
  # The hospital databases sit on compose's private network without CA-issued certificates: the
  # demo opts out of TLS explicitly (a real tenant keeps the verify-full default, with
  # --tls-ca-file naming the hospital's CA; see docs/tenant-tls.md).
  fhirgate tenant add "${client_id}" --database-url-file "${url_file}" \
    --mapping "${mapping}" --name "${name}" --tls-mode disable
  : >"${url_file}"
}

register hospital-a 'Hospital Regional de Antofagasta (demo)' \
  "mysql://fhirgate_reader:${HOSPITAL_A_READER_PASSWORD}@hospital-a-db:3306/hospital_a" \
  /app/src/demo/mappings/hospital-a.json
register hospital-b 'Clínica Los Andes (demo)' \
  "mysql://fhirgate_reader:${HOSPITAL_B_READER_PASSWORD}@hospital-b-db:3306/hospital_b" \
  /app/src/demo/mappings/hospital-b.json
