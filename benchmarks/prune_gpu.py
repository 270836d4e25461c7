#!/usr/bin/env python
"""Post-hoc pruning baseline on the GPU (§5.2–5.3, Figs 4–7, Table 4): one JSON for results/pruning.json.

1. Per task (seed 0): fine-tune the embedded MiniLM-L6-H384 at λ = 0 with `compecon_nb.train.fit` and the λ grid's
   recipe (benchmarks/train_grid.py: 1 epoch, lr 1e-4, batch 32, 10 % warm-up, bf16), so the pruned models start
   from the λ family's own λ = 0 point; score every head (Michel et al. 2019, |∂L/∂ξ_h|) and FFN neuron (Taylor
   |Σ a ∂L/∂a|; --magnitude adds activation magnitude for 'both'); physically remove the least important 10–90 % of
   heads / neurons / both; recover 'both' at 30/50 % with 100 AdamW steps; record metric, theoretical and executed
   (FlopCounterMode, batch 1; --count-padded adds the batched eval pass) FLOPs (`compecon_nb.prune.baseline`).
   Measured on an H100 (14:42 UTC run, --budget-s 100): fit 26 s, ~1.5 s per pruned model with --count-padded on SICK
   test, 20 s per 150 recovery steps; the defaults aim at about 4–5 minutes for the three tasks.
2. Table 4 on SICK (MNLI stand-in): penalty on attention only and FFN only at the paper's λ = 1e-4 (mapped to
   reduction='mean' per penalty as the grid does), plus a high-λ run (paper 1e-2, both) for Fig 6's heatmap.
3. Extra seeds (1, 2) for STS-B and CoLA: λ = 0 and its 'both' pruning at 4 levels, while time lasts.

Device (one call):
  bash ../shared/gpu/setup && export PYTHONPATH=$PWD COMPECON_MODEL_DIR=$PWD/.gpu/model HF_HUB_OFFLINE=1 \
      HF_DATASETS_OFFLINE=1 && python benchmarks/prune_gpu.py --out $OUT/pruning.json
CPU check (tiny random BERT, a few rows):  python benchmarks/prune_gpu.py --tiny --out /tmp/pruning.json
The JSON is rewritten after every unit, so a run stopped by its time limit still returns what it finished.
"""
import argparse, sys, time, traceback
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from compecon_nb.runs import atomic_write_json, env_info, load_checkpoint
from compecon_nb import prune as P

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--out', required=True)
ap.add_argument('--tasks', nargs='+', default=['sick', 'stsb', 'cola'])
ap.add_argument('--levels', nargs='+', type=float, default=list(P.LEVELS))
ap.add_argument('--extra-seeds', nargs='*', type=int, default=[1, 2])
ap.add_argument('--extra-tasks', nargs='*', default=['stsb', 'cola'])
ap.add_argument('--extra-levels', nargs='+', type=float, default=[0.2, 0.4, 0.6, 0.8])
ap.add_argument('--recover-levels', nargs='*', type=float, default=[0.3, 0.5])
ap.add_argument('--recover-steps', type=int, default=100)
ap.add_argument('--epochs', type=int, default=1)
ap.add_argument('--lr', type=float, default=1e-4)
ap.add_argument('--ablation-lam', type=float, default=1e-4, help='paper-unit λ of Table 4')
ap.add_argument('--heatmap-lam', type=float, default=1e-2, help='paper-unit λ of the Fig 6 model')
ap.add_argument('--budget-s', type=float, default=240, help='start no new unit after this many seconds')
ap.add_argument('--magnitude', action='store_true', help="also rank by activation magnitude ('both' family)")
ap.add_argument('--count-padded', action='store_true', help='also count FLOPs of the batched eval pass (slower)')
ap.add_argument('--tiny', action='store_true', help='CPU check: tiny random BERT, 64 rows')
ap.add_argument('--runs-dir', default='runs/prune')
ap.add_argument('--no-lam-runs', action='store_true', help='skip the λ runs (Table 4 penalties, Fig 6 high-λ model)')
a = ap.parse_args()

t0 = time.time()
deadline = t0 + a.budget_s
log = lambda s: print(f"[{time.time() - t0:6.1f}s] {s}", flush=True)
model = 'bert-tiny' if a.tiny else 'minilm'
small = dict(n_train=64, n_eval=64, imp_examples=32, batch_size=16) if a.tiny else {}
if a.tiny: a.recover_steps, a.levels, a.extra_levels = 4, [0.3, 0.5, 0.7], [0.5]
torch.backends.cuda.matmul.allow_tf32 = True
res = dict(env=env_info(), config=vars(a), runs=[], points=[], lam_runs=[], heatmap=None, errors=[], skipped=[])
save = lambda: atomic_write_json(a.out, {**res, 'seconds': round(time.time() - t0, 1)})

try:
    from compecon_nb import train as T
    base = dict(model=model, epochs=a.epochs, lr=a.lr, batch_size=32, warmup=0.1, max_seq_len=128, patience=2,
                reduction='mean', alpha=1.0, beta=1.0, overwrite=True, fast=False)
    if a.tiny: base.update(train_subset=64, eval_subset=64, batch_size=16)
    T.make_config(base)
except Exception as e:
    T = None; res['errors'].append(f"compecon_nb.train unusable ({type(e).__name__}: {e}); λ=0 via prune.finetune, no λ runs")
res['finetune_via'] = 'compecon_nb.train.fit (λ grid recipe)' if T else 'compecon_nb.prune.finetune'
scales = {}

def lam_mean(task, lam_paper, penalty):
    "The grid's mapping: λ_mean = λ_paper · C_sum / C_mean of the model at initialisation (8 training batches)."
    if lam_paper == 0: return 0.0
    if (task, penalty) not in scales:
        scales[task, penalty] = T.lam_scale(T.make_config(base, task=task, penalty=penalty), 8)
        res.setdefault('scale', {})[f'{task}/{penalty}'] = scales[task, penalty]
    return T.lam_for(lam_paper, scales[task, penalty]['ratio'])

def train_fit(task, lam_paper=0.0, penalty='both', seed=0):
    "fit(model, loader, seed) for prune.baseline: train through compecon_nb.train.fit, load its best weights into `model`."
    def fit(m, loader, s):
        lam = lam_mean(task, lam_paper, penalty)
        met = T.fit(base, task=task, lam=lam, penalty=penalty, seed=seed,
                    out_dir=f'{a.runs_dir}/{task}/lam{lam_paper:g}-{penalty}-s{seed}')
        load_checkpoint(Path(met['run_dir']) / 'best', m)
        res['lam_runs'].append(dict(task=task, lam_paper=lam_paper, lam=lam, penalty=penalty, seed=seed,
                                    metrics={k: v for k, v in met.items() if k not in ('history', 'config', 'dims', 'env')}))
        log(f"fit {task} λ_paper={lam_paper:g} ({penalty}) seed {seed}: {met['metric']} {met['score']:.4f}")
        return m
    return fit if T else None

def unit(name, fn):
    if time.time() > deadline:
        res['skipped'].append(name); log(f"skip {name}: time budget spent"); return None
    try: return fn()
    except Exception as e:
        res['errors'].append(f"{name}: {type(e).__name__}: {e}"); traceback.print_exc()
    finally: save()

def prune_unit(task, seed, levels, by, recover_levels, families):
    r = P.baseline(task, model=model, seed=seed, levels=levels, families=families, by=by, recover_levels=recover_levels,
                   recover_steps=a.recover_steps if recover_levels else 0, epochs=a.epochs, lr=a.lr, eval_batch_size=256,
                   fit=train_fit(task, 0.0, 'both', seed), deadline=deadline, count_padded=a.count_padded, log=log, **small)
    res['runs'].append(r['info']); res['points'] += r['points']
    return r

EX = ('A man is playing a guitar on the stage', 'A person is playing an instrument')
dense = {}
for task in a.tasks:
    r = unit(f'prune {task} s0', lambda: prune_unit(task, 0, a.levels, dict(heads=('taylor',), neurons=('taylor',),
                                                    both=('taylor', 'magnitude') if a.magnitude else ('taylor',)),
                                                    a.recover_levels, ('heads', 'neurons', 'both')))
    if r is not None and task == 'sick':
        am = P.attention_maps(r['model'], r['tokenizer'], *EX)
        res['heatmap'] = dict(example=EX, tokens=am['tokens'], lam0=am['probs'].numpy().round(4).tolist(),
                              lam_high=None, lam_high_paper=a.heatmap_lam)
    del r
# Table 4 (penalty ablation on SICK) and the high-λ model of Fig 6
if T and not a.no_lam_runs:
    from compecon_nb.data import load_model
    def lam_unit(task, lp, pen, heat=False):
        m, tok = load_model(model, task)
        m = train_fit(task, lp, pen, 0)(m, None, 0)
        if heat and res['heatmap'] is not None:
            res['heatmap']['lam_high'] = P.attention_maps(m.to(next(m.parameters()).device), tok, *EX)['probs'].numpy().round(4).tolist()
        return True
    unit(f'heatmap λ={a.heatmap_lam:g}', lambda: lam_unit('sick', a.heatmap_lam, 'both', heat=True))
    for pen in ('attention', 'ffn'):
        unit(f'ablation {pen} λ={a.ablation_lam:g}', lambda: lam_unit('sick', a.ablation_lam, pen))
for seed in a.extra_seeds:
    for task in a.extra_tasks:
        unit(f'prune {task} s{seed}', lambda: prune_unit(task, seed, a.extra_levels, ('taylor',), (), ('both',)))
save()
log(f"done: {len(res['points'])} points, {len(res['lam_runs'])} λ runs, {len(res['errors'])} errors, "
    f"{len(res['skipped'])} skipped -> {a.out}")
