#!/usr/bin/env bash
# The Python the Python agents' tests run: a virtual environment with the reference LLM agent's
# pinned, hash-checked requirements (agents/python-llm/requirements.txt), made once per version
# of that file in a cache outside the repository. Prints the environment's python on stdout;
# progress goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

requirements=agents/python-llm/requirements.txt
log() { echo "python-env: $*" >&2; }

command -v python3 >/dev/null || { log "python3 is needed (3.9 or later)"; exit 1; }
key=$( (python3 -c 'import sys; print(sys.version_info[:2])'; cat "$requirements") | sha256sum | cut -c1-16)
venv=${XDG_CACHE_HOME:-$HOME/.cache}/agentrunbook/python/$key

if [[ ! -f "$venv/.complete" ]]; then
  log "installing $requirements into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install --quiet --no-input --require-hashes --only-binary=:all: \
    -r "$requirements" >&2
  touch "$venv/.complete"
fi
echo "$venv/bin/python"
