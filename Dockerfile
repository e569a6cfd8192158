# The one image of systemd-workload-operator: the controller (default command)
# and the node agent (the DaemonSet runs node dist/src/agent/main.js).
#   docker build -t ghcr.io/example/systemd-workload-operator:0.1.0 .
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci
COPY src ./src
COPY hack/gen-crds.ts ./hack/gen-crds.ts
RUN npx tsc -p tsconfig.json

FROM node:20-slim
# journalctl, for the agent's /logs endpoint (it reads the host journal mounted
# at /var/log/journal with journalctl --directory).
RUN apt-get update \
 && apt-get install -y --no-install-recommends systemd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY crds ./crds
# The controller runs as this user; the agent's pod sets runAsUser: 0 (see config/manager/agent.yaml).
USER 65532:65532
CMD ["node", "dist/src/controller/main.js"]
