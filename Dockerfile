# Lectern: the CMS as a container. State lives in /data (git repository, media, and the
# embedded database when DATABASE_URL is not set); mount a volume there.
FROM node:20-bookworm-slim

# git itself: `lectern fsck` runs git fsck and `lectern repack` runs git repack on the
# content repository (the server writes it with isomorphic-git and needs no git).
RUN apt-get update \
  && apt-get install -y --no-install-recommends git \
  && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY blocks ./blocks
COPY schemas ./schemas
COPY migrations ./migrations
COPY environments.json ./
COPY src ./src
COPY tsconfig.json ./

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
EXPOSE 3000
USER node
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
  CMD node -e "fetch('http://127.0.0.1:3000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/server.ts"]
