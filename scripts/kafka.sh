#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft broker+controller) on 127.0.0.1, from Maven Central jars.
#
#   scripts/kafka.sh fetch    download the runtime jars once into .cache/kafka/<version>/libs (git-ignored)
#   scripts/kafka.sh start    format a fresh data dir, start the broker, wait until it serves requests
#   scripts/kafka.sh stop     controlled shutdown (SIGTERM, then SIGKILL after 30 s)
#   scripts/kafka.sh status   exit 0 when the broker answers Kafka requests
#   scripts/kafka.sh logs     tail the broker log
#
# Environment: KAFKA_VERSION (default 4.1.2; any 3.9.x switches to the 3.9 profile, e.g. 3.9.1),
# KAFKA_PORT (9092; the controller listens on KAFKA_PORT+1), KAFKA_HEAP (512m),
# KAFKA_CPUS (taskset CPU list, optional), KAFKA_KEEP_DATA=1 (reuse the data dir),
# HVG_CACHE_DIR (default <repo>/.cache). See docs/kafka-local.md for why each step is there.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KAFKA_VERSION=${KAFKA_VERSION:-4.1.2}
KAFKA_PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
CACHE=${HVG_CACHE_DIR:-$ROOT/.cache}
LIBS=$CACHE/kafka/$KAFKA_VERSION/libs
RUN=$CACHE/kafka-run/$KAFKA_PORT
PIDFILE=$RUN/broker.pid
LOG=$RUN/broker.log
# the Node that npm scripts use (the 'node' devDependency), else whatever is on PATH
NODE=$ROOT/node_modules/.bin/node; [ -x "$NODE" ] || NODE=node

case "$KAFKA_VERSION" in
  3.*) PROFILE=(-Pkafka39); LOGOPT="-Dlog4j.configuration=file:$ROOT/infra/kafka/log4j.properties" ;;
  4.*) PROFILE=(); LOGOPT="-Dlog4j2.configurationFile=$ROOT/infra/kafka/log4j2.properties" ;;
  *) echo "kafka.sh: KAFKA_VERSION=$KAFKA_VERSION is not supported (use 4.x or 3.9.x)" >&2; exit 2 ;;
esac

log() { echo "kafka.sh: $*" >&2; }

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  command -v mvn >/dev/null || { log "Maven (mvn) is required to fetch Kafka $KAFKA_VERSION"; exit 1; }
  command -v java >/dev/null || { log "Java 17+ is required to run Kafka"; exit 1; }
  log "fetching Apache Kafka $KAFKA_VERSION runtime jars from Maven Central into $LIBS"
  rm -rf "$LIBS.tmp"; mkdir -p "$LIBS.tmp"
  mvn -B -q -f "$ROOT/infra/kafka/pom.xml" "${PROFILE[@]}" -Dkafka.version="$KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >&2
  ls "$LIBS.tmp"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1 || { log "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; exit 1; }
  rm -rf "$LIBS"; mv "$LIBS.tmp" "$LIBS"; touch "$LIBS/.complete"
}

pid_alive() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

ready() { "$NODE" --disable-warning=TimeoutNegativeWarning "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT" "${1:-5}"; }

write_config() {
  mkdir -p "$RUN"
  cat > "$RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$RUN/data
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
group.initial.rebalance.delay.ms=0
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
num.network.threads=2
num.io.threads=4
log.segment.bytes=67108864
PROPS
}

start() {
  if pid_alive; then
    log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"
    ready 30; return
  fi
  fetch
  write_config
  local cp="$LIBS/*"
  local jvm=(-Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)
  if [ "${KAFKA_KEEP_DATA:-0}" != 1 ] || [ ! -f "$RUN/data/meta.properties" ]; then
    rm -rf "$RUN/data"
    # cluster id: 16 random bytes, base64url, no leading '-' (the CLI would read it as an option)
    local id; while :; do id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); [ "${id#-}" = "$id" ] && break; done
    java -Xmx256m "$LOGOPT" -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$RUN/server.properties" --ignore-formatted > "$RUN/format.log" 2>&1 \
      || { log "format failed:"; cat "$RUN/format.log" >&2; exit 1; }
  fi
  local pin=(); [ -n "${KAFKA_CPUS:-}" ] && pin=(taskset -c "$KAFKA_CPUS")
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (log: $LOG)"
  : > "$LOG"
  nohup "${pin[@]}" java "${jvm[@]}" "$LOGOPT" -cp "$cp" kafka.Kafka "$RUN/server.properties" >> "$LOG" 2>&1 < /dev/null &
  echo $! > "$PIDFILE"
  # 'Kafka Server started' is logged once the controller is elected and the broker has caught up
  # with the metadata log; a bound port alone is not enough (requests are enabled later).
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120}))
  until grep -q 'Kafka Server started' "$LOG"; do
    pid_alive || { log "broker exited during start:"; tail -40 "$LOG" >&2; rm -f "$PIDFILE"; exit 1; }
    (( SECONDS < deadline )) || { log "broker not started within ${KAFKA_START_TIMEOUT:-120}s:"; tail -40 "$LOG" >&2; stop; exit 1; }
    sleep 0.3
  done
  # and it must answer a real request (metadata + controller) before we call it ready
  ready 30 || { log "broker does not answer requests"; tail -40 "$LOG" >&2; stop; exit 1; }
  log "ready on 127.0.0.1:$KAFKA_PORT (pid $(cat "$PIDFILE"))"
}

stop() {
  pid_alive || { rm -f "$PIDFILE"; log "not running"; return 0; }
  local pid; pid=$(cat "$PIDFILE")
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then log "no clean shutdown within 30s, killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"
  log "stopped"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  restart) stop; KAFKA_KEEP_DATA=1 start ;;
  status) pid_alive && ready 5 ;;
  logs) tail -n "${2:-100}" "$LOG" ;;
  *) echo "usage: $0 fetch|start|stop|restart|status|logs" >&2; exit 2 ;;
esac
