#!/usr/bin/env bash
# Re-execute notebooks in place with their default (tiny, CPU) parameters, so that the stored outputs the docs site
# renders are current. Uses nbdev-test --save, so `#| slow` / `#| gpu` cells are skipped exactly as in the tests;
# tables and figures of paper-scale runs are rendered from results/*.json.
#   bash docs/execute_notebooks.sh                 # every notebook
#   bash docs/execute_notebooks.sh 03_scarcity.ipynb
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 MPLBACKEND=Agg
nbs=("$@"); [ ${#nbs[@]} -gt 0 ] || nbs=($(cd nbs && ls *.ipynb))
for nb in "${nbs[@]}"; do
  echo "== $nb"
  nbdev-test "nbs/$nb" --save
  nbdev-clean --fname "nbs/$nb"
done
