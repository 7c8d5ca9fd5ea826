#!/usr/bin/env bash
# Provides the argocd-health program (Argo CD's own Lua VM, from the pinned wrapper module in
# hack/argocd-health/) and prints its path on stdout; builds it once into a cache outside the
# repository. Progress goes to stderr.
set -euo pipefail

ARGOCD_VERSION=v3.5.7
bin=${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/tools/argocd-health-$ARGOCD_VERSION/argocd-health
if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null || { echo "argocd-health: Go is needed to build Argo CD's Lua VM" >&2; exit 1; }
  echo "argocd-health: building Argo CD $ARGOCD_VERSION's Lua VM into $(dirname "$bin") (minutes, once)" >&2
  mkdir -p "$(dirname "$bin")"
  # Each build writes its own file: a test that needs the VM may build it while make test-tools does.
  (cd "$(dirname "${BASH_SOURCE[0]}")/argocd-health" && go build -o "$bin.partial.$$" .)
  mv "$bin.partial.$$" "$bin"
fi
echo "$bin"
