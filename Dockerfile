# shaobing on Node 20 (Debian bookworm). The full node image carries python3, make and g++, which
# better-sqlite3 needs when no prebuilt binary matches.
FROM node:20-bookworm

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a code change does not reinstall them. tsx (which runs the TypeScript) is a
# runtime dependency, so devDependencies are left out.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

COPY . .

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
CMD ["npm", "start"]
