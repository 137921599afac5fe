#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft broker+controller) on 127.0.0.1, from Maven Central jars.
#
#   scripts/kafka.sh fetch    download the runtime jars once into .cache/kafka/<version>/libs (git-ignored)
#   scripts/kafka.sh start    format a fresh data dir, start the broker, wait until it serves requests
#   scripts/kafka.sh stop     controlled shutdown (SIGTERM, then SIGKILL after 30 s)
#   scripts/kafka.sh status   exit 0 when the broker answers Kafka requests
#   scripts/kafka.sh logs     tail the broker log
#   scripts/kafka.sh env      print the secured listener's address and credentials (shell exports)
#
# Environment: KAFKA_VERSION (default 4.1.2; any 3.9.x switches to the 3.9 profile, e.g. 3.9.1),
# KAFKA_PORT (9092; the controller listens on KAFKA_PORT+1), KAFKA_HEAP (512m),
# KAFKA_CPUS (taskset CPU list, optional), KAFKA_KEEP_DATA=1 (reuse the data dir),
# KAFKA_GC_LOG=<file> (the JVM's GC pauses with wall-clock times; the bench reads them),
# HVG_CACHE_DIR (default <repo>/.cache). See docs/kafka-local.md for why each step is there.
#
# KAFKA_SASL_PORT=<port> adds a second listener, SASL_SSL on that port, to the same JVM: a CA and
# a broker certificate are made with openssl at each fresh start, SCRAM users (admin, gateway,
# outsider; random passwords) are written at format time, StandardAuthorizer enforces ACLs there.
# Super users: User:admin and User:ANONYMOUS (what the plaintext listener and the controller
# authenticate as), so plaintext clients keep full access. The gateway and outsider principals
# start with no ACLs: grant them with src/kafka/acls.ts (tests, demo) or kafka-acls.sh.
# The address, CA file and credentials are written to <run dir>/secured.env (mode 600).
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
SASL_PORT=${KAFKA_SASL_PORT:-}
TLS=$RUN/tls
SECURED_ENV=$RUN/secured.env
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

# the plaintext listener: ignore any KAFKA_SSL*/KAFKA_SASL* meant for another cluster
ready() {
  env -u KAFKA_SSL -u KAFKA_SSL_CA_FILE -u KAFKA_SSL_CERT_FILE -u KAFKA_SSL_KEY_FILE -u KAFKA_SSL_SERVERNAME \
    -u KAFKA_SASL_MECHANISM -u KAFKA_SASL_USERNAME -u KAFKA_SASL_PASSWORD -u KAFKA_SASL_PASSWORD_FILE \
    "$NODE" --disable-warning=TimeoutNegativeWarning "$ROOT/scripts/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT" "${1:-5}"
}

write_config() {
  mkdir -p "$RUN"
  local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"
  local advertised="PLAINTEXT://127.0.0.1:$KAFKA_PORT" map="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [ -n "$SASL_PORT" ]; then
    listeners+=",SASL_SSL://127.0.0.1:$SASL_PORT"; advertised+=",SASL_SSL://127.0.0.1:$SASL_PORT"; map+=",SASL_SSL:SASL_SSL"
  fi
  cat > "$RUN/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$map
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
  # the PLAIN users' passwords are in the JAAS line: owner-only
  if [ -n "$SASL_PORT" ]; then secured_config >> "$RUN/server.properties"; chmod 600 "$RUN/server.properties"; fi
  return 0
}

# A throwaway CA and a broker certificate for 127.0.0.1/localhost (PEM keystore: Kafka reads the
# unencrypted PKCS#8 key and the chain from one file, so no keystore password is needed).
make_tls() {
  command -v openssl >/dev/null || { log "openssl is required for the SASL_SSL listener"; exit 1; }
  rm -rf "$TLS"; mkdir -p "$TLS"; chmod 700 "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=hv-gateway local test CA" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$TLS/broker.key" -out "$TLS/broker.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > "$TLS/ext.cnf"
  openssl x509 -req -in "$TLS/broker.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -CAcreateserial -days 7 \
    -extfile "$TLS/ext.cnf" -out "$TLS/broker.pem" 2>/dev/null
  cat "$TLS/broker.key" "$TLS/broker.pem" "$TLS/ca.pem" > "$TLS/broker-keystore.pem"
  chmod 600 "$TLS"/*.key "$TLS/broker-keystore.pem"
}

rand_secret() { head -c 18 /dev/urandom | base64 | tr '+/' 'xy'; }

# SCRAM users and their passwords; kept across KAFKA_KEEP_DATA restarts (they live in the metadata log)
make_users() {
  mkdir -p "$RUN"
  ( umask 077; : > "$SECURED_ENV" )
  cat > "$SECURED_ENV" <<ENV
export HVG_KAFKA_SASL_BROKERS=127.0.0.1:$SASL_PORT
export HVG_KAFKA_CA_FILE=$TLS/ca.pem
export HVG_KAFKA_ADMIN_USERNAME=admin
export HVG_KAFKA_ADMIN_PASSWORD=$(rand_secret)
export HVG_KAFKA_GATEWAY_USERNAME=gateway
export HVG_KAFKA_GATEWAY_PASSWORD=$(rand_secret)
export HVG_KAFKA_OUTSIDER_USERNAME=outsider
export HVG_KAFKA_OUTSIDER_PASSWORD=$(rand_secret)
ENV
}

secured_config() {
  # shellcheck disable=SC1090
  . "$SECURED_ENV"
  local plain="org.apache.kafka.common.security.plain.PlainLoginModule required"
  for u in ADMIN GATEWAY OUTSIDER; do
    local n="HVG_KAFKA_${u}_USERNAME" p="HVG_KAFKA_${u}_PASSWORD"; plain+=" user_${!n}=\"${!p}\""
  done
  cat <<PROPS
# --- SASL_SSL listener (KAFKA_SASL_PORT) ---
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=$plain;
listener.name.sasl_ssl.ssl.keystore.type=PEM
listener.name.sasl_ssl.ssl.keystore.location=$TLS/broker-keystore.pem
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:$HVG_KAFKA_ADMIN_USERNAME;User:ANONYMOUS
PROPS
}

start() {
  if pid_alive; then
    log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"
    ready 30; return
  fi
  fetch
  if [ -n "$SASL_PORT" ]; then
    # new users (and passwords) only with a fresh data dir: SCRAM credentials live in the metadata log
    if [ "${KAFKA_KEEP_DATA:-0}" != 1 ] || [ ! -f "$SECURED_ENV" ]; then make_users; fi
    make_tls
  fi
  write_config
  local cp="$LIBS/*"
  local jvm=(-Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)
  # KAFKA_GC_LOG=<file>: the JVM's GC pauses, one line each with its wall-clock time (the bench
  # lines them up with its runs: a broker pause holds every produce answer, the gateway's included)
  [ -n "${KAFKA_GC_LOG:-}" ] && jvm+=("-Xlog:gc:file=$KAFKA_GC_LOG:time:filecount=0")
  if [ "${KAFKA_KEEP_DATA:-0}" != 1 ] || [ ! -f "$RUN/data/meta.properties" ]; then
    rm -rf "$RUN/data"
    # cluster id: 16 random bytes, base64url, no leading '-' (the CLI would read it as an option)
    local id; while :; do id=$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '='); [ "${id#-}" = "$id" ] && break; done
    local scram=()
    if [ -n "$SASL_PORT" ]; then
      . "$SECURED_ENV"
      for u in ADMIN GATEWAY OUTSIDER; do
        local n="HVG_KAFKA_${u}_USERNAME" p="HVG_KAFKA_${u}_PASSWORD"
        scram+=(--add-scram "SCRAM-SHA-256=[name=${!n},password=${!p}]" --add-scram "SCRAM-SHA-512=[name=${!n},password=${!p}]")
      done
    fi
    java -Xmx256m "$LOGOPT" -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$RUN/server.properties" --ignore-formatted "${scram[@]}" > "$RUN/format.log" 2>&1 \
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
  if [ -n "$SASL_PORT" ]; then
    # shellcheck disable=SC1090
    . "$SECURED_ENV"
    KAFKA_SSL=true KAFKA_SSL_CA_FILE=$HVG_KAFKA_CA_FILE KAFKA_SASL_MECHANISM=scram-sha-512 \
      KAFKA_SASL_USERNAME=$HVG_KAFKA_ADMIN_USERNAME KAFKA_SASL_PASSWORD=$HVG_KAFKA_ADMIN_PASSWORD KAFKA_SASL_PASSWORD_FILE= \
      "$NODE" --disable-warning=TimeoutNegativeWarning "$ROOT/scripts/kafka-ready.mjs" "$HVG_KAFKA_SASL_BROKERS" 30 \
      || { log "the SASL_SSL listener does not answer"; tail -40 "$LOG" >&2; stop; exit 1; }
    log "SASL_SSL listener ready on $HVG_KAFKA_SASL_BROKERS (credentials: scripts/kafka.sh env)"
  fi
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
  env) [ -f "$SECURED_ENV" ] || { log "no secured listener for port $KAFKA_PORT (start with KAFKA_SASL_PORT)"; exit 1; }; cat "$SECURED_ENV" ;;
  *) echo "usage: $0 fetch|start|stop|restart|status|logs|env" >&2; exit 2 ;;
esac
