# syntax=docker/dockerfile:1
# fhirgate gateway image. Two stages: `deps` installs the production dependencies (and compiles
# better-sqlite3 if no prebuilt binary fits); `runtime` holds only node_modules, the sources tsx
# runs, the public schema files and the CLI. No secret is baked in: every key, password and URL
# comes from the environment at run time (see docs/operations.md).

FROM node:20.19-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=4000
WORKDIR /app
# Owned by root and read-only for the `node` user the process runs as.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY schema ./schema
COPY deploy/register-tenants.sh ./deploy/register-tenants.sh
RUN chmod 0755 bin/fhirgate.js deploy/register-tenants.sh \
  && ln -s /app/bin/fhirgate.js /usr/local/bin/fhirgate
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "src/main.ts"]
