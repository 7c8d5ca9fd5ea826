#!/usr/bin/env bash
# `make e2e`: installs what a real one-node cluster needs (saying so), builds the images twice and
# checks the digests match (reproducible builds), then runs test/e2e on a cluster it starts and
# stops itself (also on failure).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bash hack/e2e/prerequisites.sh >/dev/null
first=$(bash hack/image.sh)
again=$(mktemp -d)
trap 'rm -rf "$again"' EXIT
second=$(IMAGE_OUT="$again" bash hack/image.sh)
if [[ "$first" != "$second" ]]; then
  printf 'e2e: two image builds gave different digests:\n%s\n%s\n' "$first" "$second" >&2
  exit 1
fi
printf 'e2e: two image builds gave the same digests:\n%s\n' "$first" >&2
npx mocha --timeout 600000 'test/e2e/**/*.test.ts'
