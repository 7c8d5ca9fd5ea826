#!/usr/bin/env bash
# `make e2e-kind`: the e2e checks on a kind cluster, for machines with Docker and kind (this
# project's own machines have neither). The cluster is deleted afterwards, also on failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

for tool in docker kind; do
  command -v "$tool" >/dev/null || { echo "e2e-kind: needs $tool; make e2e needs neither" >&2; exit 1; }
done
cluster=agentrunbook-e2e
bash hack/image.sh >/dev/null
kind create cluster --name "$cluster" --wait 120s
trap 'kind delete cluster --name "$cluster"' EXIT
for image in agentrunbook-operator agentrunbook-agent; do
  kind load image-archive --name "$cluster" "dist/images/$image.oci.tar"
done
kubeconfig=$(mktemp)
kind get kubeconfig --name "$cluster" >"$kubeconfig"
E2E_KUBECONFIG=$kubeconfig npx mocha --timeout 600000 'test/e2e/**/*.test.ts'
