#!/usr/bin/env bash
# npm run bench: the whole benchmark in one command (see bench/README.md).
#
#  1. fetches the Strimzi bridge jars once into .cache/bridge/<version>/libs (Maven Central);
#  2. starts a Kafka broker of its own on a free port, pinned to core 1 (scripts/kafka.sh);
#  3. runs the orchestrator bench/run.ts pinned to core 1 (it is the load generator), which
#     starts every system under test pinned to core 0, prints one table and writes
#     bench/results/<timestamp>.json;
#  4. stops everything it started — broker, bridge, servers — on exit, error or Ctrl-C.
#
# Variables: BENCH_* (bench/run.ts header), BENCH_BRIDGE_VERSION (0.33.1), KAFKA_VERSION.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"

case "$(node --version)" in
  v24.*|v26.*) ;;
  *) echo "bench: Node $(node --version) is not supported; run 'npm ci' (the node devDependency brings Node 24)" >&2; exit 1 ;;
esac
[ -d node_modules/autocannon ] || { echo "bench: autocannon missing; run 'npm ci'" >&2; exit 1; }
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is required to pin CPUs" >&2; exit 1; }
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores (system under test on core 0, load + broker on core 1); this machine has $(nproc)" >&2; exit 1; fi

# core 0: the system under test; core 1: the broker and the load generator (this orchestrator)
export BENCH_SUT_CPUS=${BENCH_SUT_CPUS:-0}
export BENCH_LOAD_CPUS=${BENCH_LOAD_CPUS:-1}
STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
export BENCH_RUN_DIR="$ROOT/.cache/bench-run/$STAMP"
export BENCH_PID_FILE="$BENCH_RUN_DIR/children.pids"
mkdir -p "$BENCH_RUN_DIR"
: > "$BENCH_PID_FILE"
log() { echo "bench: $*" >&2; }

KAFKA_PORT=""
ORCH=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$ORCH" ] && kill -0 "$ORCH" 2>/dev/null; then
    kill -TERM "$ORCH" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$ORCH" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ORCH" 2>/dev/null || true
  fi
  # anything the orchestrator started and did not reap (it registers every child's pid here)
  while read -r pid; do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && { log "killing leftover pid $pid"; kill -KILL "$pid" 2>/dev/null || true; }
  done < "$BENCH_PID_FILE"
  if [ -n "$KAFKA_PORT" ]; then
    KAFKA_PORT=$KAFKA_PORT bash scripts/kafka.sh stop >> "$BENCH_RUN_DIR/kafka.log" 2>&1 || true
    rm -rf "${HVG_CACHE_DIR:-$ROOT/.cache}/kafka-run/$KAFKA_PORT"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. the Strimzi bridge's jars (only when B runs with BENCH_STRIMZI=1) --------------------------
BRIDGE_VERSION=${BENCH_BRIDGE_VERSION:-0.33.1}
if [[ ",${BENCH_SCENARIOS:-H,P,K,B,G,S}," == *,B,* && "${BENCH_STRIMZI:-0}" == 1 ]]; then
  libs="$ROOT/.cache/bridge/$BRIDGE_VERSION/libs"
  if [ -f "$libs/.complete" ]; then
    export BENCH_BRIDGE_LIBS="$libs"
  elif ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    export BENCH_BRIDGE_ERROR="Maven and Java 17+ are needed to fetch and run the Strimzi bridge"
  else
    log "fetching io.strimzi:kafka-bridge:$BRIDGE_VERSION into $libs"
    rm -rf "$libs.tmp"; mkdir -p "$libs.tmp"
    if mvn -B -q -f infra/bridge/pom.xml -Dbridge.version="$BRIDGE_VERSION" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$libs.tmp" > "$BENCH_RUN_DIR/bridge-fetch.log" 2>&1 \
        && ls "$libs.tmp"/kafka-bridge-*.jar >/dev/null 2>&1; then
      rm -rf "$libs"; mv "$libs.tmp" "$libs"; touch "$libs/.complete"
      export BENCH_BRIDGE_LIBS="$libs"
    else
      rm -rf "$libs.tmp"
      reason=$(grep -m1 -oE "Could not (resolve|find)[^:]*: [^ ]*|Missing:.*|Could not transfer[^,]*" "$BENCH_RUN_DIR/bridge-fetch.log" || true)
      export BENCH_BRIDGE_ERROR="io.strimzi:kafka-bridge:$BRIDGE_VERSION could not be fetched from Maven${reason:+ ($reason)}; log: ${BENCH_RUN_DIR#"$ROOT"/}/bridge-fetch.log"
      log "$BENCH_BRIDGE_ERROR"
    fi
  fi
fi

# ---- 1b. the gateway as users run it: the tsc-built dist/ (G starts dist/server.js) ---------------
if [[ ",${BENCH_SCENARIOS:-H,P,K,B,G,S}," == *,G,* || ",${BENCH_SCENARIOS:-H,P,K,B,G,S}," == *,S,* ]]; then
  log "building dist/ (npm run build)"
  tsc -p tsconfig.build.json || { log 'build failed'; exit 1; }
fi

# ---- 2. a broker of our own on a free port pair, pinned to core 1 --------------------------------
KAFKA_PORT=$(node -e '
const net = require("node:net");
const free = (p) => new Promise((r) => { const s = net.createServer(); s.once("error", () => r(false)); s.listen(p, "127.0.0.1", () => s.close(() => r(true))); });
(async () => { for (let i = 0; i < 50; i++) { const p = 20000 + Math.floor(Math.random() * 20000); if ((await free(p)) && (await free(p + 1))) { console.log(p); return; } } process.exit(1); })();')
log "starting Kafka on 127.0.0.1:$KAFKA_PORT (core $BENCH_LOAD_CPUS)"
# the broker's GC pauses, lined up with every run (bench/lib/broker-gc.ts)
export BENCH_BROKER_GC_LOG="$BENCH_RUN_DIR/broker-gc.log"
KAFKA_GC_LOG=$BENCH_BROKER_GC_LOG KAFKA_PORT=$KAFKA_PORT KAFKA_CPUS=$BENCH_LOAD_CPUS bash scripts/kafka.sh start > "$BENCH_RUN_DIR/kafka.log" 2>&1 \
  || { cat "$BENCH_RUN_DIR/kafka.log" >&2; exit 1; }
export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
BENCH_BROKER_PID=$(cat "${HVG_CACHE_DIR:-$ROOT/.cache}/kafka-run/$KAFKA_PORT/broker.pid" 2>/dev/null || echo 0)
export BENCH_BROKER_PID

# ---- 3. the orchestrator, on the load core with the broker -------------------------------------------
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning"
taskset -c "$BENCH_LOAD_CPUS" node bench/run.ts &
ORCH=$!
status=0
wait "$ORCH" || status=$?

# ---- 4. scaling: 1/2/4 instances posting at once; reconcile time for 25 subscriptions × 2/8/32 ----
if [[ ",${BENCH_SCENARIOS:-H,P,K,B,G,S}," == *,S,* ]]; then
  taskset -c "$BENCH_LOAD_CPUS" node bench/scaling.ts &
  ORCH=$!
  wait "$ORCH" || status=1
fi
exit "$status"
