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
summary=$(grep -E '^# \{ total: [0-9]+' .tap/output.tap | tail -n 1)
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary"); fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
pass=${pass:-0}; fail=${fail:-0}
[ -z "$summary" ] && [ "$status" != 0 ] && fail=$((fail + 1))
line="$pass passed, $fail failed"
echo "$line" > .tap/summary.txt
echo "$line"
exit "$status"
