#!/usr/bin/env bash
# Issue 12's clean-start check (npm run fresh-starts; not part of CI): run the demo N times in a
# row (default 10), each against a broker started fresh for it, and fail on any run that does
# not finish or prints an error-level line. Odd runs use --early (the gateway starts while the
# broker is still booting, as compose and Kubernetes start them), even runs --secured (SASL_SSL,
# the least-privilege gateway principal, the gateway started right after the broker is ready).
#   scripts/fresh-starts.sh [N] [extra demo args]     logs: .cache/fresh-starts/run-<i>.log
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-10}; shift || true
OUT=$ROOT/.cache/fresh-starts
mkdir -p "$OUT"
NODE=$ROOT/node_modules/.bin/node; [ -x "$NODE" ] || NODE=node
failed=0
for i in $(seq 1 "$N"); do
  if (( i % 2 == 1 )); then mode=--early; else mode=--secured; fi
  log=$OUT/run-$i.log
  start=$SECONDS
  "$NODE" --disable-warning=TimeoutNegativeWarning "$ROOT/scripts/demo.ts" "$mode" "$@" > "$log" 2>&1
  code=$?
  # pino levels: 40 warn, 50 error, 60 fatal; kafka.sh and the demo print "failed" on their own errors
  errors=$(grep -cE '"level":(50|60)|demo failed' "$log")
  warns=$(grep -c '"level":40' "$log")
  arrived=$(grep -c 'changes arrived, tagged with their instance' "$log")
  verdict=ok
  if [ "$code" != 0 ] || [ "$errors" != 0 ] || [ "$arrived" != 1 ]; then verdict=FAILED; failed=$((failed + 1)); fi
  printf 'run %2d %-9s exit %s  error lines %s  warn lines %s  %3ss  %s\n' "$i" "$mode" "$code" "$errors" "$warns" "$((SECONDS - start))" "$verdict"
  [ "$verdict" = ok ] || grep -E '"level":(40|50|60)|failed' "$log" | head -5 | cut -c1-300
done
echo "$((N - failed)) of $N fresh starts clean"
[ "$failed" = 0 ]
