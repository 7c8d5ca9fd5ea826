#!/usr/bin/env bash
# Makes sure zsh and fish are there for the completion tests, installing Debian's packages when
# they are not (as root). Prints the directory that holds them.
set -euo pipefail

log() { echo "shells: $*" >&2; }

missing=()
for shell in zsh fish; do command -v "$shell" >/dev/null || missing+=("$shell"); done
if (( ${#missing[@]} )); then
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    log "needs ${missing[*]} for the completion tests (Debian: apt-get install ${missing[*]})"
    exit 1
  fi
  log "installing ${missing[*]} (Debian's packages) for the completion tests"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
dirname "$(command -v fish)"
