#!/usr/bin/env bash
# npm run test:node26 — the same suite as npm test (scripts/test.sh, extra arguments go to tap),
# run on Node 26 instead of the devDependency's Node 24: the README claims both. Node 26 comes
# from the npm registry as the `node` package (the same way the devDependency brings Node 24)
# into .cache/node-<version>/, once. CI keeps one Node (npm test).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VERSION=${HVG_NODE26_VERSION:-26.10.0}
DIR="$ROOT/.cache/node-$VERSION"
if [ "$("$DIR/node_modules/.bin/node" --version 2>/dev/null)" != "v$VERSION" ]; then
  echo "== installing Node $VERSION (npm package node@$VERSION) into $DIR"
  mkdir -p "$DIR"
  # the node package fetches its binary in an install script: allow it, as package.json does
  [ -f "$DIR/package.json" ] || echo '{ "private": true, "allowScripts": { "node": true } }' > "$DIR/package.json"
  npm install --prefix "$DIR" --no-save --no-audit --no-fund --no-package-lock "node@$VERSION" > "$DIR/install.log" 2>&1 \
    || { cat "$DIR/install.log"; echo "0 passed, 1 failed"; exit 1; }
fi
HVG_TEST_NODE_DIR="$DIR/node_modules/.bin" exec bash "$ROOT/scripts/test.sh" "$@"
