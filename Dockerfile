# The same images as `make image` (hack/image.sh), for people with Docker:
#   docker build -t ghcr.io/i2s-studio/agentrunbook-operator:0.1.0 .
#   docker build --build-arg ENTRYPOINT=agent/main.js -t ghcr.io/i2s-studio/agentrunbook-agent:0.1.0 .
# make image builds them without Docker, reproducibly; this file is kept equivalent by hand.
FROM node:24.21.0-trixie-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY hack/build-console.ts hack/build-operator.ts ./hack/
COPY console-ui ./console-ui
COPY src ./src
RUN npm run build && npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM debian:trixie-slim
ARG ENTRYPOINT=bundle/main.js
ENV ENTRYPOINT=${ENTRYPOINT}
RUN echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >>/etc/passwd \
 && echo 'nonroot:x:65532:' >>/etc/group
COPY --from=build /usr/local/bin/node /usr/local/bin/node
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
ENV NODE_ENV=production
LABEL org.opencontainers.image.licenses=Apache-2.0
# An exec-form entrypoint cannot read a build argument, so link the chosen script.
RUN ["node", "-e", "require('fs').symlinkSync('/app/dist/' + process.env.ENTRYPOINT, '/app/entrypoint.js')"]
USER 65532:65532
ENTRYPOINT ["node", "/app/entrypoint.js"]
