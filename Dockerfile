# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build -t mcp-session-gateway .                          the gateway (default target, last below)
#   docker build --target demo -t mcp-session-gateway-demo .       the demo MCP backend (charts: demo.enabled)
# Every step below is also run outside Docker by test/k8s/image/dockerfile.test.ts (no Docker engine runs in
# this project's CI), so keep RUN lines to commands that work from the stage's WORKDIR with relative paths.
ARG NODE_IMAGE=node:26.10.0-bookworm-slim
# Distroless: Node 26 and its runtime libraries only: no shell, no package manager; runs as uid 65532.
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs26-debian12:nonroot

# --- build: every dependency exactly as locked, then TypeScript -> dist/ ------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: none of the packages needs one to build (the `node` devDependency would fetch a second
# Node binary; the image has its own). tsc is then run by path, not through node_modules/.bin.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gateway ./gateway
COPY demo ./demo
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json

# --- production dependencies only ----------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund
# Type declarations and source maps serve editors and debuggers and are never loaded at run time; they are
# about 40 MB of the Kubernetes client alone.
RUN find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete

# --- the demo MCP backend: it needs the MCP SDK and zod, which are devDependencies, so it takes them all ------
FROM ${RUNTIME_IMAGE} AS demo
WORKDIR /app
COPY package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/demo ./dist/demo
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
EXPOSE 3000
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "dist/demo/backend.js"]

# --- the gateway ---------------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS gateway
WORKDIR /app
# package.json: "type": "module" for dist/, and the version `mcp-gateway --version` prints.
COPY package.json ./
COPY bin ./bin
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/gateway ./dist/gateway
ENV NODE_ENV=production
# MCP, admin (metrics, health)
EXPOSE 8080 9090
# Numeric, so that Kubernetes can verify runAsNonRoot without looking the name up.
USER 65532:65532
# Exec form: node is PID 1 and receives SIGTERM itself. The gateway handles it (not-ready, drain delay, close
# listeners, end listening streams, finish in-flight requests, exit 0), so no init process or shell is needed.
ENTRYPOINT ["/nodejs/bin/node", "bin/mcp-gateway.js"]
