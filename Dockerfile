# syntax=docker/dockerfile:1
# fhirgate gateway image. Two stages: `build` installs every dependency (compiling better-sqlite3
# if no prebuilt binary fits), compiles src/ to JavaScript (`npm run build`) and drops the dev
# dependencies; `runtime` holds only the production node_modules, the compiled dist/, the public
# schema files and the CLI, and runs plain node on Node 24 LTS: no tsx, no TypeScript at run time.
# No secret is baked in: every key, password and URL comes from the environment at run time (see
# docs/operations.md).

FROM node:24.22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
  && npm prune --omit=dev --no-audit --no-fund
# GraphiQL's files are static: keep the package's dist/ (what the gateway serves) and drop the
# React and Monaco tree they were built from (node_modules 317 MB -> 78 MB, measured).
RUN mv node_modules/@graphql-yoga/graphiql /tmp/graphiql \
  && npm uninstall --no-save --omit=dev --ignore-scripts --no-audit --no-fund @graphql-yoga/graphiql \
  && mkdir -p node_modules/@graphql-yoga/graphiql \
  && cp -r /tmp/graphiql/package.json /tmp/graphiql/dist node_modules/@graphql-yoga/graphiql/ \
  && rm -rf /tmp/graphiql

FROM node:24.22-bookworm-slim AS runtime
ENV NODE_ENV=production \
  HOST=0.0.0.0 \
  PORT=4000
WORKDIR /app
# Owned by root and read-only for the `node` user the process runs as. No src/: the `fhirgate`
# bin runs dist/ when there are no sources beside it.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY schema ./schema
COPY deploy/register-tenants.sh ./deploy/register-tenants.sh
RUN chmod 0755 bin/fhirgate.js deploy/register-tenants.sh \
  && ln -s /app/bin/fhirgate.js /usr/local/bin/fhirgate
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]
