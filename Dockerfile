# Hindsight as a shared MCP server over Streamable HTTP (`hindsight serve --http 8080`).
#   docker build -t hindsight .
#   docker run --init -p 8080:8080 -v hindsight-data:/data \
#     -e HINDSIGHT_HTTP_TOKEN=… -e HINDSIGHT_HTTP_PUBLIC_URL=https://hindsight.example.com/mcp hindsight
# It refuses to start without HINDSIGHT_HTTP_TOKEN or an OAuth issuer (HINDSIGHT_HTTP_ISSUER).

# Full Debian images for the two install stages: better-sqlite3 falls back to a source build
# (python3, make, g++) when no prebuilt binary fits. Same Debian release as the runtime image, so
# the compiled addon runs there.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/finish-build.mjs scripts/
COPY src src
RUN npm run build

FROM node:20-bookworm AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HINDSIGHT_HOME=/data \
    HINDSIGHT_HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=prod-deps /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY prompts prompts
COPY examples/sample-incident examples/sample-incident
COPY third_party/gitleaks/LICENSE third_party/gitleaks/LICENSE
# a font for the chart PNG's labels (resvg draws no text without one)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown node:node /data
# the unprivileged user of the official Node images (uid 1000)
USER node
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/cli.js", "serve", "--http", "8080"]
