# shaobing on Node 20 (Debian bookworm), built in one stage and run from plain JavaScript in the next.

# Build: all dependencies (TypeScript included), compile to dist/, then drop what only development uses.
# The full node image carries python3, make and g++, which better-sqlite3 needs when no prebuilt binary matches.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY devices ./devices
RUN node scripts/build.mjs && npm prune --omit=dev --no-audit --no-fund

# Run: the same Debian release (better-sqlite3's native module was built against it), no compiler, no npm in
# the command: `node dist/main.js` is PID 1 itself, so SIGTERM reaches the service directly and it
# stops gracefully (src/main.ts).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY config ./config
COPY scripts/healthcheck.mjs ./scripts/healthcheck.mjs

# Data (SQLite, the telemetry spool) lives in a volume; the environment variables are those of CONTRACT.md.
RUN mkdir -p /data && chown node:node /data
ENV SHAOBING_DATA_DIR=/data \
    SHAOBING_MQTT_PORT=1883 \
    SHAOBING_HTTP_PORT=8080
VOLUME ["/data"]
EXPOSE 1883 8883 8080

USER node
# The port and scheme the service was given (SHAOBING_HTTP_PORT, SHAOBING_HTTP_TLS), not a fixed 8080.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD ["node", "scripts/healthcheck.mjs"]
# Provisioning inside the container: node dist/src/cli/provision.js --id … (the same options as npm run provision).
CMD ["node", "dist/main.js"]
