#!/usr/bin/env bash
# What `make e2e` needs on this machine, installed once and said so: containerd, runc and the CNI
# plugins (Debian's archive), kubelet and kube-scheduler (built from the same pinned modules as the
# test control plane), and a pause image for Pod sandboxes. Needs root. Prints the pause image
# archive's path on stdout; progress goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

log() { echo "e2e: $*" >&2; }

if [[ $(id -u) != 0 ]]; then
  log "make e2e runs a real kubelet and containerd, which need root; run it as root"
  exit 1
fi

declare -A PROVIDES=([containerd]=containerd [runc]=runc [/usr/lib/cni/bridge]=containernetworking-plugins
  [mmdebstrap]=mmdebstrap [umoci]=umoci [ip]=iproute2)
missing=()
for tool in "${!PROVIDES[@]}"; do
  if [[ $tool == /* ]]; then [[ -e $tool ]] || missing+=("${PROVIDES[$tool]}")
  else command -v "$tool" >/dev/null || missing+=("${PROVIDES[$tool]}"); fi
done
if (( ${#missing[@]} )); then
  log "installing ${missing[*]} from Debian's archive (apt-get)"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

bash hack/envtest.sh >/dev/null
bash hack/envtest.sh kubelet kube-scheduler >/dev/null

cache=${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/e2e
pause_image="$cache/pause.oci.tar"
if [[ ! -f $pause_image ]]; then
  log "building the pause image into $pause_image"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/rootfs" "$cache"
  (cd hack/e2e/pause && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/rootfs/pause" .)
  tar --owner=0 --group=0 --numeric-owner -C "$work/rootfs" -cf "$work/layer.tar" .
  umoci init --layout "$work/oci"
  umoci new --image "$work/oci:1"
  umoci raw add-layer --image "$work/oci:1" --no-history "$work/layer.tar"
  umoci config --image "$work/oci:1" --no-history --config.entrypoint=/pause --config.user=65535:65535
  tar -C "$work/oci" -cf "$pause_image.partial" .
  mv "$pause_image.partial" "$pause_image"
fi
echo "$pause_image"
