# Onehand: multi-stage build. The runtime image holds the compiled JavaScript and production
# dependencies only, runs as a non-root user, and keeps its SQLite database in a volume.
# Build:  docker build -t onehand .
# Run:    docker run -d -p 8080:8080 -v onehand-data:/data -e DISCORD_TOKEN=... onehand
#         (mount your config at /app/config/onehand.yaml, or set ONEHAND_CONFIG)
# Node 24 is the current LTS (Node 20 reached its end of life in April 2026); see "engines".

FROM node:24-bookworm-slim AS build
# sqlite3 is a native module: it is rebuilt here from its bundled sources with the image's own Node
# headers (npm_config_nodedir: no header download), whatever prebuilt binary `npm ci` fetched or
# failed to fetch, and checked below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund \
    && npm rebuild sqlite3 --build-from-source
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY plugins ./plugins
# Fail the build here, not at the first start, if the native module does not load or its SQLite is
# older than the store needs (jsonb_each: SQLite 3.45 or later; the bundled sources are newer).
RUN npm run build && npm prune --omit=dev \
    && node -e "const s = require('sqlite3'); const d = new s.Database(':memory:'); d.all('SELECT value FROM jsonb_each(?)', ['[1]'], (e) => { if (e) { console.error(e.message); process.exit(1); } d.close(); })"

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    ONEHAND_DATA=/data/onehand.db \
    ONEHAND_CONFIG=/app/config/onehand.yaml \
    ONEHAND_HTTP_PORT=8080 \
    ONEHAND_HTTP_HOST=0.0.0.0
WORKDIR /app
RUN groupadd --system onehand && useradd --system --gid onehand --home-dir /app onehand \
    && mkdir -p /data && chown onehand:onehand /data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
USER onehand
VOLUME ["/data"]
EXPOSE 8080
# /healthz on ONEHAND_HTTP_PORT and ONEHAND_HTTP_HOST, whatever they are set to at run time.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "bin/healthcheck.js"]
# Without -i, standard input is /dev/null: `start` runs headless (see README).
ENTRYPOINT ["node", "bin/onehand.js"]
CMD ["start"]
