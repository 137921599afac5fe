#!/usr/bin/env bash
# The one test command (npm test): type-check, make sure a real Kafka broker is there (start one
# with scripts/kafka.sh unless KAFKA_BROKERS points at a reachable broker), run tap, stop what
# was started, and end with one plain line "N passed, N failed" (also in .tap/summary.txt).
# Extra arguments go to tap (e.g. npm test -- test/sink).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$PATH"
# scripts/test-node26.sh puts another Node ahead of the devDependency's
[ -n "${HVG_TEST_NODE_DIR:-}" ] && export PATH="$HVG_TEST_NODE_DIR:$PATH"
# kafkajs schedules a timer with a negative delay (Node clamps it to 1 ms); silence that warning only
export NODE_OPTIONS="${NODE_OPTIONS:-} --disable-warning=TimeoutNegativeWarning"

case "$(node --version)" in
  v24.*|v26.*) ;;
  *) echo "test.sh: Node $(node --version) is not supported; run 'npm ci' (the node devDependency brings Node 24)" >&2; exit 1 ;;
esac

echo "== Node $(node --version)"
echo "== typecheck and build (tests also run the built server, as npm start does)"
tsc -p tsconfig.json --noEmit || exit 1
rm -rf dist && tsc -p tsconfig.build.json || exit 1

# One broker, two listeners: plaintext on KAFKA_PORT (its ANONYMOUS principal is a super user:
# test observers and most tests) and SASL_SSL on KAFKA_PORT+2 with ACLs, where the e2e tests run
# the gateway as a least-privilege principal. The secured listener's address, CA file and SCRAM
# users reach the tests as HVG_KAFKA_* variables (scripts/kafka.sh env). With a reused
# KAFKA_BROKERS, export those yourself to test over SASL_SSL (HVG_TEST_KAFKA_SECURITY=plaintext
# forces plaintext e2e runs).
started=0
if [ -n "${KAFKA_BROKERS:-}" ] && node scripts/kafka-ready.mjs "$KAFKA_BROKERS" 5; then
  echo "== using Kafka at $KAFKA_BROKERS${HVG_KAFKA_SASL_BROKERS:+ (SASL_SSL: $HVG_KAFKA_SASL_BROKERS)}"
else
  export KAFKA_PORT=${HVG_TEST_KAFKA_PORT:-19092}
  export KAFKA_SASL_PORT=$((KAFKA_PORT + 2))
  echo "== starting Kafka ${KAFKA_VERSION:-4.1.2} on 127.0.0.1:$KAFKA_PORT (SASL_SSL on $KAFKA_SASL_PORT)"
  bash scripts/kafka.sh start || exit 1
  started=1
  export KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
  eval "$(bash scripts/kafka.sh env)"
  unset KAFKA_SASL_PORT # brokers the tests start themselves choose their own
fi
cleanup() { [ "$started" = 1 ] && bash scripts/kafka.sh stop; }
trap cleanup EXIT

mkdir -p .tap
# apply the plugin set of .taprc now: tap otherwise rebuilds it lazily, after a first run that
# still uses the install's default set (with its TypeScript loader)
tap build > .tap/build.log 2>&1 || { cat .tap/build.log; exit 1; }
echo "== tap"
tap --reporter=tap "$@" 2>&1 | tee .tap/output.tap
status=${PIPESTATUS[0]}
# tap's closing summary line looks like "# { total: 12, pass: 11, fail: 1 }"
count() { # file, exit status → "pass fail"
  local summary p f
  summary=$(grep -E '^# \{ total: [0-9]+' "$1" | tail -n 1)
  p=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); f=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
  p=${p:-0}; f=${f:-0}
  [ -z "$summary" ] && [ "$2" != 0 ] && f=$((f + 1))
  echo "$p $f"
}
read -r pass fail < <(count .tap/output.tap "$status")

# One extra pass (issue 17): the Kafka-touching tests again with the other Kafka client
# (KAFKA_CLIENT), so the client that is not in use stays working. On a full run, or on any run
# with HVG_TEST_OTHER_CLIENT=1; counted into the same line.
OTHER_CLIENT_TESTS=(test/sink/kafka-sink.test.ts test/sink/kafka-sink-broker-loss.test.ts test/subscriptions/store.test.ts test/subscriptions/leadership.test.ts test/e2e/notifications.test.ts)
if [ $# -eq 0 ] || [ "${HVG_TEST_OTHER_CLIENT:-0}" = 1 ]; then
  other=$(node -e 'import("./src/kafka/api.ts").then((m) => { const main = process.env.KAFKA_CLIENT || m.DEFAULT_KAFKA_CLIENT; console.log(m.KAFKA_CLIENTS.find((c) => c !== main)); })')
  echo "== tap, Kafka-touching tests with KAFKA_CLIENT=$other"
  KAFKA_CLIENT=$other tap --reporter=tap "${OTHER_CLIENT_TESTS[@]}" 2>&1 | tee .tap/output-other-client.tap
  other_status=${PIPESTATUS[0]}
  read -r p2 f2 < <(count .tap/output-other-client.tap "$other_status")
  pass=$((pass + p2)); fail=$((fail + f2))
  [ "$other_status" != 0 ] && status=$other_status
fi
line="$pass passed, $fail failed"
echo "$line" > .tap/summary.txt
echo "$line"
exit "$status"
