#!/usr/bin/env bash
# `make image`: OCI image archives of the operator and of the reference agents, built without
# Docker and reproducibly (the same sources give the same digests):
#   $IMAGE_OUT/agentrunbook-operator.oci.tar   ghcr.io/i2s-studio/agentrunbook-operator:<version>
#   $IMAGE_OUT/agentrunbook-agent.oci.tar      ghcr.io/i2s-studio/agentrunbook-agent:<version>
#   $IMAGE_OUT/agentrunbook-llm-agent.oci.tar  ghcr.io/i2s-studio/agentrunbook-llm-agent:<version>
# One layer each: a minimal Debian root file system (mmdebstrap --variant=extract: no shell, no
# package manager), the pinned Node.js, dist/ and the production node_modules, a non-root user
# (65532). Timestamps come from SOURCE_DATE_EPOCH (default: the last commit's time). Prints each
# image's manifest digest on stdout; progress goes to stderr.
set -euo pipefail
umask 022
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SUITE=trixie
PACKAGES=libc6,libstdc++6,libgcc-s1,tzdata,netbase,base-files
REGISTRY=ghcr.io/i2s-studio
out=${IMAGE_OUT:-dist/images}
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
revision=$(git rev-parse HEAD)

log() { echo "image: $*" >&2; }

missing=()
for tool in mmdebstrap umoci; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if (( ${#missing[@]} )); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]} from Debian's archive (apt-get)"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
  else
    log "needs ${missing[*]} (Debian: apt-get install mmdebstrap umoci), or use the Dockerfile"
    exit 1
  fi
fi

node_bin=$(bash hack/node.sh --pinned)
export PATH="$node_bin:$PATH"
version=$(node -p 'require("./package.json").version')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

log "building dist/"
npm run --silent build >&2

log "Debian $SUITE root file system ($PACKAGES)"
SOURCE_DATE_EPOCH=$epoch mmdebstrap --quiet --variant=extract --include="$PACKAGES" "$SUITE" "$rootfs" >&2
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >>"$rootfs/etc/passwd"
echo 'nonroot:x:65532:' >>"$rootfs/etc/group"
mkdir -p "$rootfs/tmp" && chmod 1777 "$rootfs/tmp"

log "Node.js $(node --version), dist/ and the production node_modules"
install -D -m 0755 "$node_bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/app"
cp package.json package-lock.json "$rootfs/app/"
cp -r dist "$rootfs/app/dist"
rm -rf "$rootfs/app/dist/images"
(cd "$rootfs/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

# One layer, byte for byte the same on every build: sorted names, fixed times and owners.
tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=pax \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$rootfs" -cf "$work/layer.tar" .

mkdir -p "$out"
image() {
  local name=$1 title=$2 script=$3
  local layout="$work/oci-$name" ref="$work/oci-$name:$version"
  umoci init --layout "$layout"
  umoci new --image "$ref"
  umoci raw add-layer --image "$ref" --history.created="$created" --history.created_by="make image" \
    "$work/layer.tar"
  umoci config --image "$ref" --no-history --created="$created" --author="i2s.studio" \
    --config.user=65532:65532 --config.workingdir=/app \
    --config.env=PATH=/usr/local/bin:/usr/bin:/bin --config.env=NODE_ENV=production \
    --config.entrypoint=node --config.entrypoint="/app/dist/$script" \
    --config.label=org.opencontainers.image.title="$title" \
    --config.label=org.opencontainers.image.version="$version" \
    --config.label=org.opencontainers.image.revision="$revision" \
    --config.label=org.opencontainers.image.created="$created" \
    --config.label=org.opencontainers.image.licenses=Apache-2.0 \
    --config.label=org.opencontainers.image.ref.name="$REGISTRY/$name:$version"
  umoci gc --layout "$layout"
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner -C "$layout" \
    -cf "$out/$name.oci.tar" .
  local digest
  digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' \
    "$layout/index.json")
  log "$out/$name.oci.tar: $REGISTRY/$name:$version@$digest ($(du -h "$out/$name.oci.tar" | cut -f1))"
  echo "$REGISTRY/$name:$version@$digest"
}
image agentrunbook-operator "AgentRunbook operator" cli/main.js
image agentrunbook-agent "AgentRunbook reference agent" agent/main.js
image agentrunbook-llm-agent "AgentRunbook reference LLM agent" agent/llm-main.js
