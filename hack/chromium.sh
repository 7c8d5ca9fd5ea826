#!/usr/bin/env bash
# Prints the path of a headless Chromium for the console's browser tests, installing Debian's
# `chromium` package when there is none (as root; npm's browser builds download from hosts this
# machine cannot reach). $CHROMIUM names another browser binary.
set -euo pipefail

log() { echo "chromium: $*" >&2; }

for candidate in "${CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -n "$candidate" && -x "$candidate" ]]; then
    echo "$candidate"
    exit 0
  fi
done

if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  log "no Chromium found: install Debian's chromium package (apt-get install chromium) or set CHROMIUM"
  exit 1
fi
log "installing Debian's chromium package for the console's browser tests"
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
echo /usr/bin/chromium
