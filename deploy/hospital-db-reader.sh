# shellcheck shell=bash
# Mounted into each hospital database's /docker-entrypoint-initdb.d as 02-reader.sh, after the
# seed script (01-*.sql). The MariaDB image's entrypoint sources it on the first start of an
# empty data volume, as root, with its docker_process_sql helper. It creates the account fhirgate
# connects with: SELECT on this hospital's database and nothing else.
#
# The password also ends up inside a database URL, so it is limited to characters that need no
# escaping in a URL or in an SQL string literal.
if [[ ! ${FHIRGATE_READER_PASSWORD:-} =~ ^[A-Za-z0-9._~-]{16,}$ ]]; then
  echo >&2 '02-reader.sh: FHIRGATE_READER_PASSWORD must be 16 or more of A-Z a-z 0-9 . _ ~ -'
  exit 1
fi
docker_process_sql --database=mysql <<EOSQL
CREATE USER 'fhirgate_reader'@'%' IDENTIFIED BY '${FHIRGATE_READER_PASSWORD}';
GRANT SELECT ON \`${MARIADB_DATABASE}\`.* TO 'fhirgate_reader'@'%';
EOSQL
