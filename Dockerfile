# syntax=docker/dockerfile:1
# The codex-bridge image: one CLI, run as `worker` or `serve` (see docker-compose.yml).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is reused until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npx tsc -p tsconfig.build.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
# git: Codex inspects and diffs the workspace with it; ca-certificates: HTTPS to OpenAI, Feishu, Hermes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates git \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# Mount points for the local inbox and the task workspaces, owned by the unprivileged user.
RUN mkdir -p /data /workspace /codex-home && chown node:node /data /workspace /codex-home
# The base image's `node` user (uid 1000): Codex runs shell commands, never as root.
USER node
ENTRYPOINT ["node", "bin/codex-bridge.js"]
CMD ["--help"]
