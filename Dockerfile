# hv-gateway image: multi-stage, Node 24 LTS (the version tests and CI run), production
# dependencies only, non-root, HEALTHCHECK on /healthz. Node runs as PID 1 with its own
# SIGTERM/SIGINT handlers (close-with-grace), so `docker stop` drains instead of killing.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
# MALLOC_ARENA_MAX=1: glibc gives every thread that mallocs concurrently an arena of its own and
# keeps their freed memory; the gateway's work is one thread (V8's and libuv's helpers allocate
# little), and one arena saved 8-17 MB of RSS under load at no measured CPU cost (small requests
# are served from glibc's per-thread caches without the arena lock). `npm start` sets the same (a test checks).
ENV NODE_ENV=production PORT=8080 MALLOC_ARENA_MAX=1
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# the operator console's static files (no build step): dist/routes/console.js reads them from src/console
COPY --from=build --chown=node:node /app/src/console ./src/console
USER node
# 8080: notifications (public, behind TLS); 9090: admin API, /metrics, console (ADMIN_PORT; keep internal)
EXPOSE 8080 9090
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# --max-semi-space-size=16 --no-allocation-site-pretenuring: a 32 MB young generation (two 16 MB
# semi-spaces) instead of 64. With 16 and V8's defaults, at 256 sender connections the gateway fell
# into runs of full GCs (12-46 per 15 s in most runs, throughput halved). The cause is V8's
# allocation-site pretenuring, not the semi-space size: --trace-pretenuring-statistics showed sites
# whose objects all survived a scavenge (ratio 1.0) switched to "tenure", i.e. allocated straight
# into the old generation, and they stayed so; in that state 3-4.6 MB survived each scavenge
# instead of ~0.6, ~3 MB was promoted per scavenge and the old generation refilled within ~0.3 s
# (--trace-gc-nvp). Without pretenuring, 16 MB semi-spaces ran 0-2 full GCs per 15 s at 256
# connections in 7 of 7 runs (both Kafka clients, 1 and 2 KB), RSS 160-178 against 200-204 MB with
# 32, same throughput and CPU per request; at 2 960/s (2 KB) p99 24-29 against 35-60 ms, RSS
# 167-172 against 188-200 MB (pairs of 2026-12-02; README "Performance").
# --max-old-space-size=160: an explicit old-generation cap that fits the container memory limit
# (deploy/kubernetes: 3 × 16 + 160 MB of V8 heap + ~130 MB binary, native and buffers < 448 Mi).
# --heap-growing-percent=50: after a full GC the old generation may grow by half its live size
# before the next one. V8's own factor follows GC speed over allocation rate; for this process
# (fast GC, slow old-generation growth) stays near its minimum, 1.1 (the limits that
# --trace-incremental-marking printed), so with ~42 MB live a full GC started after ~2-4 MB of
# growth, every ~10 s at half load, and each
# one (marking on the same core, then a 9-15 ms pause) is the stall behind the p99. With 50: one
# in 40 s instead of four, p99 at 2 960/s 39.6 -> 25.0 ms, RSS unchanged (README "Performance").
# These are V8 flags, not Node ones: test/deploy/manifests.test.ts proves this Node accepts them.
# Same flags as `npm start` (a test compares them).
CMD ["node", "--disable-warning=TimeoutNegativeWarning", "--max-semi-space-size=16", "--no-allocation-site-pretenuring", "--max-old-space-size=160", "--heap-growing-percent=50", "dist/server.js"]
