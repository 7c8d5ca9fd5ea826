#!/usr/bin/env bash
# Provides Prometheus and promtool from Debian's archive (the `prometheus` package, unpacked,
# never installed: no service starts) and prints the directory holding both on stdout. Fetched
# once into a cache outside the repository; progress goes to stderr.
set -euo pipefail

PROMETHEUS_DEB_VERSION=2.42.0+ds-5+deb12u1
dir=${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/tools/prometheus-$PROMETHEUS_DEB_VERSION
log() { echo "prometheus: $*" >&2; }

if [[ ! -x "$dir/promtool" || ! -x "$dir/prometheus" ]]; then
  command -v apt-get >/dev/null || { log "apt-get is needed to fetch Debian's prometheus package"; exit 1; }
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  chmod 777 "$work" # apt's _apt user writes the download
  log "fetching Debian's prometheus $PROMETHEUS_DEB_VERSION into $dir"
  if ! (cd "$work" && apt-get download -q "prometheus=$PROMETHEUS_DEB_VERSION" >&2); then
    [[ $(id -u) == 0 ]] || { log "the package lists lack it and only root can refresh them (apt-get update)"; exit 1; }
    apt-get update -q >&2
    (cd "$work" && apt-get download -q "prometheus=$PROMETHEUS_DEB_VERSION" >&2)
  fi
  dpkg-deb -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p "$dir"
  cp "$work/root/usr/bin/prometheus" "$work/root/usr/bin/promtool" "$dir/"
fi
echo "$dir"
