#!/usr/bin/env bash
# `make image`: OCI image archives of the operator and of the reference agents, built without
# Docker and reproducibly (the same sources give the same digests):
#   $IMAGE_OUT/agentrunbook-operator.oci.tar   ghcr.io/i2s-studio/agentrunbook-operator:<version>
#   $IMAGE_OUT/agentrunbook-agent.oci.tar      ghcr.io/i2s-studio/agentrunbook-agent:<version>
#   $IMAGE_OUT/agentrunbook-llm-agent.oci.tar  ghcr.io/i2s-studio/agentrunbook-llm-agent:<version>
#   $IMAGE_OUT/agentrunbook-python-llm-agent.oci.tar  ghcr.io/i2s-studio/agentrunbook-python-llm-agent:<version>
# One layer each: a minimal Debian root file system (mmdebstrap --variant=extract: no shell, no
# package manager), a non-root user (65532), and either the pinned Node.js, dist/ and the
# production node_modules, or Debian's CPython with the Python SDK, the Python LLM agent and its
# hash-pinned wheels (agents/python-llm/requirements.txt). Timestamps come from SOURCE_DATE_EPOCH
# (default: the last commit's time). Prints each image's manifest digest on stdout; progress goes
# to stderr.
set -euo pipefail
umask 022
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SUITE=trixie
PACKAGES=libc6,libstdc++6,libgcc-s1,tzdata,netbase,base-files
PYTHON_PACKAGES=$PACKAGES,python3,ca-certificates
# Debian trixie's CPython, which the wheels are chosen for.
PYTHON_VERSION=3.13
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

# A Debian root file system with these packages and the non-root user.
debian_rootfs() {
  local packages=$1 target=$2
  log "Debian $SUITE root file system ($packages)"
  SOURCE_DATE_EPOCH=$epoch mmdebstrap --quiet --variant=extract --include="$packages" "$SUITE" "$target" >&2
  rm -rf "$target"/var/cache/apt/* "$target"/var/lib/apt/lists/* "$target"/var/log/*
  echo 'nonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin' >>"$target/etc/passwd"
  echo 'nonroot:x:65532:' >>"$target/etc/group"
  mkdir -p "$target/tmp" && chmod 1777 "$target/tmp"
}

# One layer, byte for byte the same on every build: sorted names, fixed times and owners.
layer() {
  tar --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner --format=pax \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$1" -cf "$2" .
}

debian_rootfs "$PACKAGES" "$rootfs"

log "Node.js $(node --version), dist/ and the production node_modules"
install -D -m 0755 "$node_bin/node" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/app"
cp package.json package-lock.json "$rootfs/app/"
cp -r dist "$rootfs/app/dist"
rm -rf "$rootfs/app/dist/images"
(cd "$rootfs/app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)

layer "$rootfs" "$work/layer.tar"

python_rootfs="$work/python-rootfs"
debian_rootfs "$PYTHON_PACKAGES" "$python_rootfs"
# mmdebstrap's extract variant runs no maintainer scripts: make the CA bundle update-ca-certificates would.
find "$python_rootfs/usr/share/ca-certificates" -name '*.crt' -print0 | LC_ALL=C sort -z |
  xargs -0 cat >"$python_rootfs/etc/ssl/certs/ca-certificates.crt"
log "the Python SDK, the Python LLM agent and its wheels for CPython $PYTHON_VERSION"
mkdir -p "$python_rootfs/app"
cp -r sdk/python/agentrunbook "$python_rootfs/app/agentrunbook"
cp agents/python-llm/llm_agent.py "$python_rootfs/app/llm_agent.py"
python3 -m pip install --quiet --no-input --disable-pip-version-check --root-user-action=ignore --no-compile --require-hashes \
  --no-deps --only-binary=:all: --implementation cp --python-version "$PYTHON_VERSION" \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  --target "$python_rootfs/app/site-packages" -r agents/python-llm/requirements.txt >&2
# Console scripts name the build machine's interpreter; the agent needs none of them.
rm -rf "$python_rootfs/app/site-packages/bin"
find "$python_rootfs/app" -name __pycache__ -prune -exec rm -rf {} +
layer "$python_rootfs" "$work/python-layer.tar"

mkdir -p "$out"
# image NAME TITLE LAYER CONFIG...: an OCI image of one layer; CONFIG are umoci config flags.
image() {
  local name=$1 title=$2 layer_tar=$3
  shift 3
  local layout="$work/oci-$name" ref="$work/oci-$name:$version"
  umoci init --layout "$layout"
  umoci new --image "$ref"
  umoci raw add-layer --image "$ref" --history.created="$created" --history.created_by="make image" \
    "$layer_tar"
  umoci config --image "$ref" --no-history --created="$created" --author="i2s.studio" \
    --config.user=65532:65532 --config.workingdir=/app \
    --config.env=PATH=/usr/local/bin:/usr/bin:/bin "$@" \
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
node_image() {
  image "$1" "$2" "$work/layer.tar" --config.env=NODE_ENV=production \
    --config.entrypoint=node --config.entrypoint="/app/dist/$3"
}
node_image agentrunbook-operator "AgentRunbook operator" bundle/main.js
node_image agentrunbook-agent "AgentRunbook reference agent" agent/main.js
node_image agentrunbook-llm-agent "AgentRunbook reference LLM agent" agent/llm-main.js
# The read-only root filesystem takes no bytecode; the wheels and the SDK come first on the path.
image agentrunbook-python-llm-agent "AgentRunbook reference Python LLM agent" "$work/python-layer.tar" \
  --config.env=PYTHONPATH=/app/site-packages:/app --config.env=PYTHONDONTWRITEBYTECODE=1 \
  --config.env=PYTHONUNBUFFERED=1 --config.entrypoint=python3 --config.entrypoint=/app/llm_agent.py
