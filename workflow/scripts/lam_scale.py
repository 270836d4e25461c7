"""λ scale of one task and model (rule lam_scale of workflow/Snakefile): C_sum / C_mean of the untrained model, as JSON."""
import argparse, json, sys
from pathlib import Path
from compecon_nb.distributed import lam_scale
from compecon_nb.runs import atomic_write_json

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument('--params', required=True, help="JSON dict of the training parameters (task, model, max_seq_len, batch_size, ...)")
ap.add_argument('--out', required=True)
ap.add_argument('--n-batches', type=int, default=8)
a = ap.parse_args()
res = lam_scale(json.loads(a.params), a.n_batches)
atomic_write_json(a.out, res)
print({k: res[k] for k in ('task', 'task_used', 'model', 'task_loss', 'c_mean', 'c_sum', 'ratio')})
