#!/usr/bin/env bash
# Validates Kubernetes manifests offline against the Kubernetes 1.34 schemas, strictly (unknown
# fields fail): `bash hack/kubeconform.sh FILE...` (or - for standard input).
#
# kubeconform is built once from its Go module, and the schemas come from the PyPI package
# kubernetes-validate, both into a cache outside the repository. Progress goes to stderr.
set -euo pipefail

KUBECONFORM_VERSION=v0.8.0
SCHEMAS_PACKAGE=kubernetes-validate==1.37.0
K8S_SCHEMA_VERSION=v1.34.0

log() { echo "kubeconform: $*" >&2; }

cache=${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/tools
bin="$cache/kubeconform-$KUBECONFORM_VERSION/kubeconform"
schemas="$cache/kubernetes-schemas-$K8S_SCHEMA_VERSION"

if [[ ! -x "$bin" ]]; then
  command -v go >/dev/null || { log "Go is needed to build kubeconform"; exit 1; }
  log "building kubeconform $KUBECONFORM_VERSION into $(dirname "$bin")"
  GOBIN="$(dirname "$bin")" go install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" >&2
fi

if [[ ! -f "$schemas/.complete" ]]; then
  command -v python3 >/dev/null || { log "python3 is needed to unpack the schemas"; exit 1; }
  log "fetching the Kubernetes $K8S_SCHEMA_VERSION schemas ($SCHEMAS_PACKAGE) into $schemas"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download --quiet --no-deps --dest "$work" "$SCHEMAS_PACKAGE" >&2
  rm -rf "$schemas" && mkdir -p "$schemas"
  # The package's "-local" schemas refer to /api/_definitions.json and carry $ids that point
  # elsewhere; kubeconform resolves references by file, so make them relative and drop the $ids.
  python3 - "$work"/*.whl "$schemas" "$K8S_SCHEMA_VERSION" <<'PY'
import json, sys, zipfile
wheel, target, version = sys.argv[1:4]
prefix = f"kubernetes_validate/kubernetes-json-schema/{version}-local/"
def fix(node):
    if isinstance(node, dict):
        node.pop("$id", None)
        return {k: (v.replace("/api/_definitions.json", "_definitions.json") if k == "$ref" and isinstance(v, str) else fix(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [fix(v) for v in node]
    return node
with zipfile.ZipFile(wheel) as zf:
    names = [n for n in zf.namelist() if n.startswith(prefix) and n.endswith(".json")]
    if not names:
        sys.exit(f"{wheel} has no schemas for {version}")
    for name in names:
        with open(f"{target}/{name[len(prefix):]}", "w") as out:
            json.dump(fix(json.loads(zf.read(name))), out)
PY
  touch "$schemas/.complete"
fi

# cert-manager's kinds (the chart's cert-manager mode) and the Prometheus Operator's (its monitoring
# options) are not Kubernetes' own: skipped; the AgentRunbook of `helm test` is checked by the chart test.
exec "$bin" -strict -summary -skip Certificate,Issuer,ServiceMonitor,PodMonitor,PrometheusRule,AgentRunbook \
  -schema-location "$schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json" "$@"
