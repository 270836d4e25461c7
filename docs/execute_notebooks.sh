#!/usr/bin/env bash
# Re-execute every notebook in place with its default (tiny, CPU) parameters, so that the stored outputs the docs
# site renders are current; tables and figures of paper-scale runs are rendered from results/*.json.
set -euo pipefail
cd "$(dirname "$0")/../nbs"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
for nb in ${@:-*.ipynb}; do
  echo "== $nb"
  papermill --cwd . --no-progress-bar "$nb" "$nb" > /dev/null
  nbdev-clean --fname "$nb"
done
