#!/usr/bin/env bash
# Build the docs site offline into docs/_build/html (see docs/build.py). Preview:
#   python -m http.server -d docs/_build/html 8000
set -euo pipefail
cd "$(dirname "$0")/.."
exec python docs/build.py "$@"
