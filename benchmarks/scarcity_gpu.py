"""Scarcity at inference on the GPU (§3.2, §5.1): fine-tune MiniLM-L6-H384 at λ=0 on SICK (stand-in for MNLI), STS-B
and CoLA, then evaluate top-k and budgeted sparsemax / 1.5-entmax attention; one JSON with env_info to $OUT.

    python benchmarks/scarcity_gpu.py --out $OUT/scarcity.json            # device (see nbs/03_scarcity.ipynb)
    python benchmarks/scarcity_gpu.py --out /tmp/s.json --train-n 64 --eval-n 32 --epochs 1   # CPU smoke test
Training is compecon_nb.train.fit (the loop of 04_train) at λ=0, the best epoch by the validation metric kept.

The committed results/scarcity.json came from: --epochs 3 --trainer fit (defaults otherwise) on an H100
(torch 2.11, transformers 5.17; code at commit e8d7aff, log in results/logs/scarcity_gpu.log).
"""
import argparse, json, os, sys, time
import numpy as np
import torch
from compecon_nb.data import load_task, load_model, encode_task, make_loader, subset, TASKS
from compecon_nb.runs import env_info, atomic_write_json
from compecon_nb.scarcity import (scarcity_grid, make_batches, attention_map, topk_policy, sparse_policy)

p = argparse.ArgumentParser()
p.add_argument('--out', required=True)
p.add_argument('--tasks', default='sick,stsb,cola')
p.add_argument('--ks', default='64,32,16,8,4,2,1')
p.add_argument('--budgets', default='0.75,0.5,0.25,0.125,4,2')
p.add_argument('--kinds', default='sparsemax,entmax15')
p.add_argument('--epochs', type=float, default=3)
p.add_argument('--lr', type=float, default=1e-4)
p.add_argument('--batch-size', type=int, default=32)
p.add_argument('--train-n', type=int, default=None, help='subset of the training split (smoke tests)')
p.add_argument('--eval-n', type=int, default=None, help='subset of the evaluation split (smoke tests)')
p.add_argument('--calib-n', type=int, default=512, help='training inputs (no labels) used to calibrate the budgets')
p.add_argument('--seed', type=int, default=0)
p.add_argument('--max-len', type=int, default=128)
p.add_argument('--eval-bs', type=int, default=256)
p.add_argument('--tol', type=float, default=0.03)
p.add_argument('--trainer', default='fit', choices=['fit'], help="compecon_nb.train.fit at λ=0 (run dir under --runs-dir)")
p.add_argument('--runs-dir', default='/tmp/runs/scarcity')
p.add_argument('--deadline', type=float, default=1e9, help='seconds: no new task after this')
p.add_argument('--threads', type=int, default=0)
a = p.parse_args()
if a.threads: torch.set_num_threads(a.threads)

num = lambda x: int(x) if x.strip().isdigit() else float(x)
ks, budgets = [int(k) for k in a.ks.split(',') if k], [num(b) for b in a.budgets.split(',') if b]
dev = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
res = dict(env=env_info(), config=dict(vars(a), ks=ks, budgets=budgets, model='minilm (MiniLM-L6-H384, embedded)',
                                       precision='bf16 autocast' if dev.type == 'cuda' else 'fp32'),
           tasks={})
t_all = time.time()
for task in a.tasks.split(','):
    t0 = time.time()
    if t0 - t_all > a.deadline: res['tasks'][task] = dict(error='skipped: time budget spent'); continue
    try:
        torch.manual_seed(a.seed)
        ds, src = load_task(task)
        used = src['task_used']
        split = 'test' if used == 'sick' else TASKS[used]['eval_splits'][0]
        tr = ds['train'] if a.train_n is None else subset(ds['train'], a.train_n, a.seed)
        from compecon_nb import train as T                # the project's training loop (04_train), λ = 0, best epoch on validation
        from compecon_nb.scarcity import load_checkpoint
        met = T.fit(task=used, lam=0.0, epochs=int(a.epochs), lr=a.lr, batch_size=a.batch_size, max_seq_len=a.max_len,
                    train_subset=a.train_n or 0, seed=a.seed, overwrite=True, out_dir=f'{a.runs_dir}/{used}/lam0-s{a.seed}')
        model, tok = load_checkpoint(met['run_dir'], used)
        model.to(dev)
        t_train = time.time() - t0
        ev = make_batches(ds[split], tok, used, a.eval_n, a.eval_bs, a.max_len, seed=a.seed)
        cal = make_batches(ds['train'], tok, used, a.calib_n, a.eval_bs, a.max_len, seed=a.seed + 1)
        rows = scarcity_grid(model, ev, used, ks, budgets, cal, kinds=a.kinds.split(','), tol=a.tol,
                             log=lambda s: print(task, s, flush=True))
        lens = np.concatenate([b['attention_mask'].sum(-1).numpy() for b in ev])
        res['tasks'][used] = dict(task_requested=task, source=src, eval_split=split, n_eval=int(len(lens)),
                                  n_train=len(tr), train_seconds=t_train, seconds=time.time() - t0,
                                  lengths=dict(mean=float(lens.mean()), median=float(np.median(lens)),
                                               p95=float(np.percentile(lens, 95)), max=int(lens.max())), rows=rows)
        atomic_write_json(a.out, res)
        # one example for the heatmaps: the one nearest the median length
        bi = min(range(len(ev)), key=lambda i: abs(int(ev[i]['attention_mask'][0].sum()) - np.median(lens)))
        b = {k: v[:1] for k, v in ev[bi].items()}
        n = int(b['attention_mask'][0].sum())
        sp = [r for r in rows if r['policy'] == 'sparsemax' and r.get('budget') == 0.25]
        maps = {'full': attention_map(model, b).tolist(), 'top-4': attention_map(model, b, topk_policy(4)).tolist(),
                'top-2': attention_map(model, b, topk_policy(2)).tolist()}
        if sp: maps['sparsemax B=0.25'] = attention_map(model, b, sparse_policy(sp[0]['calibration']['temperature'])).tolist()
        res['tasks'][used]['heatmap'] = dict(tokens=tok.convert_ids_to_tokens(b['input_ids'][0][:n]), maps=maps, task=used,
                                             layer='last (head mean)')
    except Exception as e:   # one task failing must not lose the others
        import traceback; traceback.print_exc()
        res['tasks'].setdefault(task, {})['error'] = f"{type(e).__name__}: {e}"
    res['seconds'] = time.time() - t_all
    atomic_write_json(a.out, res)
    print(task, 'done in', round(time.time() - t0, 1), 's', flush=True)
print('all done', round(time.time() - t_all, 1), 's')
