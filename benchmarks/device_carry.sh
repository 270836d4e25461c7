#!/usr/bin/env bash
# Build .devcarry/ (git-ignored): what a lent GPU machine needs besides .gpu/ (../shared/gpu/pack). ../shared does not
# travel to the device, so this copies its gpu/ scripts and the parquet data the benchmarks read.
#   bash benchmarks/device_carry.sh
#   run(carry=[".gpu", ".devcarry"], command="bash .devcarry/gpu/setup && export PYTHONPATH=$PWD \
#       COMPECON_MODEL_DIR=$PWD/.gpu/model COMPECON_DATA=$PWD/.devcarry/data HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 && \
#       python benchmarks/train_grid.py --out $OUT/train_grid.json")
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${COMPECON_SHARED:-../shared}"
rm -rf .devcarry && mkdir -p .devcarry/data
cp -r "$shared/gpu" .devcarry/gpu
for d in glue sick; do cp -r "$shared/data/$d" .devcarry/data/; done
[ -d "$shared/data/wikitext" ] && cp -r "$shared/data/wikitext" .devcarry/data/
du -sh .devcarry
# the code stamp every results file carries (the device copy has no .git): HEAD and a hash of `git diff`
python -c "from compecon_nb.runs import code_stamp; print(code_stamp(write=True))"
