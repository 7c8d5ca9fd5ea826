#!/usr/bin/env bash
# Provides the test control plane's binaries (etcd, kube-apiserver, kube-controller-manager), or
# the ones named as arguments (make e2e asks for kubelet, kube-scheduler and kube-proxy too), and
# prints the directory that holds them on stdout. Progress goes to stderr.
#
# Uses $KUBEBUILDER_ASSETS when set; otherwise builds the binaries once from the pinned Go
# modules in hack/envtest/ into a cache outside the repository and reuses them afterwards.
set -euo pipefail

K8S_VERSION=v1.34.4
if (( $# > 0 )); then BINARIES=("$@"); else BINARIES=(etcd kube-apiserver kube-controller-manager); fi

declare -A PACKAGE=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kube-proxy]=k8s.io/kubernetes/cmd/kube-proxy
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
)

log() { echo "envtest: $*" >&2; }

missing_in() {
  local dir=$1 missing=()
  for bin in "${BINARIES[@]}"; do
    [[ -x "$dir/$bin" ]] || missing+=("$bin")
  done
  echo "${missing[*]}"
}

if [[ -n "${KUBEBUILDER_ASSETS:-}" ]]; then
  missing=$(missing_in "$KUBEBUILDER_ASSETS")
  if [[ -n "$missing" ]]; then
    log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS lacks: $missing"
    exit 1
  fi
  echo "$KUBEBUILDER_ASSETS"
  exit 0
fi

cache_root=${AGENTRUNBOOK_ENVTEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/envtest}
dir="$cache_root/$K8S_VERSION"
missing=$(missing_in "$dir")
if [[ -z "$missing" ]]; then
  echo "$dir"
  exit 0
fi

command -v go >/dev/null || { log "Go is needed to build the test control plane; install Go 1.24 or newer"; exit 1; }
module_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/envtest" && pwd)
mkdir -p "$dir"
ldflags="-s -w \
  -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=34 \
  -X k8s.io/component-base/version.gitTreeState=clean"

log "building $missing ($K8S_VERSION) into $dir; the first build takes many minutes"
for bin in $missing; do
  [[ -n "${PACKAGE[$bin]:-}" ]] || { log "unknown binary $bin"; exit 1; }
  started=$(date +%s)
  log "  building $bin from ${PACKAGE[$bin]} ..."
  # Build to a temporary name and rename, so an interrupted build never leaves a broken binary.
  (cd "$module_dir" && go build -ldflags "$ldflags" -o "$dir/.$bin.partial.$$" "${PACKAGE[$bin]}")
  mv "$dir/.$bin.partial.$$" "$dir/$bin"
  log "  built $bin in $(( $(date +%s) - started ))s"
done
echo "$dir"
