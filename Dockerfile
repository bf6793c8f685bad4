# Onehand: multi-stage build. The runtime image holds the compiled JavaScript and production
# dependencies only, runs as a non-root user, and keeps its SQLite database in a volume.
# Build:  docker build -t onehand .
# Run:    docker run -d -p 8080:8080 -v onehand-data:/data -e DISCORD_TOKEN=... onehand
#         (mount your config at /app/config/onehand.yaml, or set ONEHAND_CONFIG)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY adapters ./adapters
COPY plugins ./plugins
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
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
# /healthz is served on ONEHAND_HTTP_PORT (8080 here).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8080/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
ENTRYPOINT ["node", "bin/onehand.js"]
CMD ["start"]
