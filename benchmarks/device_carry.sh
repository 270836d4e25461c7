#!/usr/bin/env bash
# Build .devcarry/ (git-ignored): what a GPU machine needs besides .gpu/ (../shared/gpu/pack). ../shared does not
# travel to the device, so this copies its gpu/ scripts and the parquet data, and packs the committed code (git archive HEAD)
# with its stamp, so a device command runs exactly HEAD whatever the working tree holds:
#   bash benchmarks/device_carry.sh
#   run(carry=[".gpu", ".devcarry"], command="bash .devcarry/gpu/setup && mkdir -p /tmp/h && tar -xf .devcarry/head.tar -C /tmp/h \
#       && cp -r .devcarry /tmp/h/ && cd /tmp/h && export PYTHONPATH=/tmp/h COMPECON_MODEL_DIR=$OLDPWD/.gpu/model \
#       COMPECON_DATA=$OLDPWD/.devcarry/data HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 && python -m compecon_nb.market ...")
set -euo pipefail
cd "$(dirname "$0")/.."
shared="${COMPECON_SHARED:-../shared}"
rm -rf .devcarry && mkdir -p .devcarry/data
cp -r "$shared/gpu" .devcarry/gpu
for d in glue sick; do cp -r "$shared/data/$d" .devcarry/data/; done
[ -d "$shared/data/wikitext" ] && cp -r "$shared/data/wikitext" .devcarry/data/
git archive --format=tar HEAD -o .devcarry/head.tar
# the code stamp every results file carries (the device copy has no .git): HEAD, clean (the archive is HEAD itself)
python - <<'PY'
import hashlib, json, subprocess
head = subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True, check=True).stdout.strip()
json.dump(dict(code_commit=head, code_dirty=False, diff_sha256=hashlib.sha256(b'').hexdigest()[:16], stamp_source='git archive HEAD'),
          open('.devcarry/STAMP.json', 'w'))
print('stamp', head)
PY
du -sh .devcarry
