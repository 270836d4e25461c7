#!/usr/bin/env python
"""Post-hoc pruning baseline on the GPU (§5.2, Figs 4–5): one JSON for results/pruning.json.

For each task and seed: fine-tune the embedded MiniLM-L6-H384 at λ = 0, score every head (Michel et al. 2019,
|∂L/∂ξ_h|) and FFN neuron (first-order Taylor |Σ a ∂L/∂a|, and activation magnitude), physically remove the least
important fraction of heads / neurons / both, optionally recover with a short fine-tune, and record the task metric
with theoretical and executed (FlopCounterMode) FLOPs — all through `compecon_nb.prune.baseline`.
Also records, for Fig 6, the attention of one SICK example under the λ = 0 model and a high-λ model when
`compecon_nb.train` can train one.

Device (one call):
  bash ../shared/gpu/setup && export PYTHONPATH=$PWD COMPECON_MODEL_DIR=$PWD/.gpu/model HF_HUB_OFFLINE=1 \
      HF_DATASETS_OFFLINE=1 && python benchmarks/prune_gpu.py --out $OUT/pruning.json
CPU check (tiny random BERT, a few rows):  python benchmarks/prune_gpu.py --tiny --out /tmp/pruning.json
The JSON is rewritten after every unit of work, so a run stopped by its time limit still returns what it finished.
"""
import argparse, sys, time, traceback
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from compecon_nb.runs import atomic_write_json, env_info
from compecon_nb import prune as P


def train_fit(lam: float = 0.0, penalty: str = 'both', epochs: float = 3, tiny: bool = False):
    "A `fit(model, loader, seed)` that trains through compecon_nb.train when it offers one, else None (prune.finetune is used)."
    try: from compecon_nb import train as T
    except Exception: return None
    fn = getattr(T, 'fit_model', None)
    if fn is None: return None
    return lambda m, loader, seed: fn(m, loader, lam=lam, penalty=penalty, epochs=epochs, seed=seed)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True)
    ap.add_argument('--tasks', nargs='+', default=['sick', 'stsb', 'cola'])
    ap.add_argument('--extra-seeds', nargs='*', type=int, default=[1, 2], help='seeds run with fewer levels, after seed 0')
    ap.add_argument('--extra-tasks', nargs='*', default=['stsb', 'cola', 'sick'])
    ap.add_argument('--levels', nargs='+', type=float, default=list(P.LEVELS))
    ap.add_argument('--extra-levels', nargs='+', type=float, default=[0.2, 0.4, 0.6, 0.8])
    ap.add_argument('--recover-levels', nargs='*', type=float, default=[0.3, 0.5, 0.7])
    ap.add_argument('--recover-steps', type=int, default=150)
    ap.add_argument('--epochs', type=float, default=3)
    ap.add_argument('--heatmap-lam', type=float, default=1e-2)
    ap.add_argument('--budget-s', type=float, default=250, help='stop starting new work after this many seconds')
    ap.add_argument('--tiny', action='store_true', help='CPU check: tiny random BERT, 64 rows, 1 epoch')
    a = ap.parse_args(argv)
    t0 = time.time()
    deadline = t0 + a.budget_s
    kw = dict(model='minilm', epochs=a.epochs)
    if a.tiny:
        kw = dict(model='bert-tiny', epochs=1, n_train=64, n_eval=64, imp_examples=32, batch_size=16)
        a.recover_steps = 4
    torch.backends.cuda.matmul.allow_tf32 = True
    res = dict(env=env_info(), config=vars(a), runs=[], points=[], heatmap=None, errors=[], seconds=None)
    save = lambda: atomic_write_json(a.out, {**res, 'seconds': round(time.time() - t0, 1)})
    log = lambda s: print(f"[{time.time() - t0:6.1f}s] {s}", flush=True)
    fit0 = None if a.tiny else train_fit(0.0, epochs=a.epochs)
    res['finetune_via'] = 'compecon_nb.train' if fit0 else 'compecon_nb.prune.finetune (compact loop, same recipe)'
    sick_model = None

    def unit(task, seed, levels, by, recover_levels, families=('heads', 'neurons', 'both')):
        nonlocal sick_model
        if time.time() > deadline:
            res['errors'].append(f"{task} seed {seed}: skipped, time budget spent"); return
        try:
            r = P.baseline(task, seed=seed, levels=levels, families=families, by=by, recover_levels=recover_levels,
                           recover_steps=a.recover_steps if recover_levels else 0, deadline=deadline, fit=fit0, log=log, **kw)
            res['runs'].append(r['info']); res['points'] += r['points']
            if task == 'sick' and seed == 0: sick_model = (r['model'], r['tokenizer'])
            else: del r
        except Exception as e:
            res['errors'].append(f"{task} seed {seed}: {type(e).__name__}: {e}"); traceback.print_exc()
        save()

    for task in a.tasks: unit(task, 0, a.levels, ('taylor', 'magnitude'), a.recover_levels)
    # Fig 6: one SICK example, dense model vs a high-λ model (when the training module can train one)
    if sick_model is not None:
        m, tok = sick_model
        ex = ('A man is playing a guitar on the stage', 'A person is playing an instrument')
        hm = dict(example=ex, lam0=None, lam_high=None, lam_high_value=a.heatmap_lam)
        am = P.attention_maps(m, tok, *ex)
        hm['tokens'], hm['lam0'] = am['tokens'], am['probs'].numpy().round(4).tolist()
        fit_hi = None if a.tiny else train_fit(a.heatmap_lam, epochs=a.epochs)
        if fit_hi is not None and time.time() < deadline:
            try:
                from compecon_nb.data import load_model
                r = P.baseline('sick', seed=0, levels=(), families=(), fit=fit_hi, log=log, **kw)
                hm['lam_high'] = P.attention_maps(r['model'], r['tokenizer'], *ex)['probs'].numpy().round(4).tolist()
                res['points'] += [{**p, 'family': 'lam', 'lam': a.heatmap_lam} for p in r['points']]
            except Exception as e:
                res['errors'].append(f"heatmap λ={a.heatmap_lam}: {type(e).__name__}: {e}"); traceback.print_exc()
        res['heatmap'] = hm
        save()
    for seed in a.extra_seeds:
        for task in a.extra_tasks:
            if task in a.tasks: unit(task, seed, a.extra_levels, ('taylor',), (), families=('both',))
    save()
    log(f"done: {len(res['points'])} points, {len(res['errors'])} errors -> {a.out}")


if __name__ == '__main__':
    main()
