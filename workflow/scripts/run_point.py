"""One grid point (a Snakemake job of workflow/Snakefile): skip it if its run directory is finished, take a free GPU slot,
run the training notebook with papermill (or train.fit), and exit with its status. See compecon_nb.distributed.run_point."""
import argparse, json, sys
from pathlib import Path
from compecon_nb.distributed import run_point, scaled
from compecon_nb.runs import read_json

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument('--params', required=True, help="JSON dict of the notebook's parameters, out_dir included")
ap.add_argument('--lam-scale', default=None, help='JSON of rule lam_scale: train at λ · C_sum / C_mean (λ given in the paper units)')
ap.add_argument('--runner', default='papermill', choices=('papermill', 'python'))
ap.add_argument('--notebook', default='nbs/04_train.ipynb')
ap.add_argument('--executed', default=None, help='where papermill writes the executed notebook (copied into the run dir at the end)')
ap.add_argument('--gpus', default='auto', help="GPU slots on this machine: 'auto' (CUDA_VISIBLE_DEVICES or nvidia-smi) or a number; 0 = CPU")
ap.add_argument('--threads', type=int, default=None, help='OMP/MKL threads of the run')
ap.add_argument('--lock-dir', default=None, help='folder of the GPU slot locks (node-local; default in the temp dir)')
a = ap.parse_args()
params = json.loads(a.params)
if a.lam_scale: params = scaled(params, read_json(a.lam_scale))
sys.exit(run_point(params, a.runner, a.notebook, a.executed, a.gpus, a.lock_dir, a.threads))
