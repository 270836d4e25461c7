"""Fast training path vs stock HF Trainer on the lent GPU (issue 14). One device call per mode:
  python benchmarks/fast_bench.py smoke   # compile + step on CUDA, lr sweep at λ=0, a short Trainer run
  python benchmarks/fast_bench.py all     # grid (cold, first), then ours vs Trainer at batch 32 (3 tasks × λ {0, 1e-4}),
                                          # batch 256, profile, extra Trainer runs while FAST_BUDGET seconds last
  python benchmarks/fast_bench.py grid    # the offline grid alone: λ {0,1e-6,1e-5,1e-4,1e-3,1e-2} × cola/stsb/sick × 3 seeds × 3 epochs
Device command: carry [".gpu", ".fastcarry"] (.fastcarry = ../shared/gpu + the cola/stsb/sick parquet files: ../shared
does not travel), `bash .fastcarry/gpu/setup && export PYTHONPATH=$PWD COMPECON_MODEL_DIR=$PWD/.gpu/model
COMPECON_DATA=$PWD/.fastcarry/data HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 && python benchmarks/fast_bench.py all`.
Writes JSON (and the profile text) to $OUT (or ./out)."""
import json, os, sys, time, traceback, tempfile
T_PROCESS = time.perf_counter()
from pathlib import Path
import numpy as np
import torch
from compecon_nb import fast
from compecon_nb.runs import env_info, atomic_write_json
from compecon_nb.data import load_model, load_task, encode_task, task_metric, TASKS

OUT = Path(os.environ.get('OUT') or 'out'); OUT.mkdir(parents=True, exist_ok=True)
LR = float(os.environ.get('FAST_LR', '1e-4'))
TASKS3 = ('cola', 'stsb', 'sick')
LAMS = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2)

def log(*a):
    print(*a, flush=True)

def trainer_run(task, seed, lam=0.0, lr=LR, epochs=3, bs=32, max_steps=None, max_len=128):
    "Stock transformers.Trainer (bf16, fused AdamW, linear warm-up 10 %, clip 1.0, dynamic padding); λ>0 adds λ·C_comp in compute_loss."
    from transformers import Trainer, TrainingArguments, DataCollatorWithPadding
    from compecon_nb.framework import observe, comp_cost
    torch.manual_seed(seed)
    model, tok = load_model('minilm', task)
    ds, src = load_task(task)
    enc = encode_task(ds, tok, task, max_len)
    class CostTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            with observe(model) as rec:
                out = model(**inputs)
                loss = out.loss + lam * comp_cost(rec)['total']
            return (loss, out) if return_outputs else loss
    args = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=bs, per_device_eval_batch_size=256,
                             learning_rate=lr, num_train_epochs=epochs, max_steps=max_steps or -1, lr_scheduler_type='linear',
                             warmup_steps=0.1, weight_decay=0.0, bf16=True, seed=seed, eval_strategy='no', save_strategy='no',
                             logging_strategy='no', report_to=[], disable_tqdm=True)
    if lam > 0: model.set_attn_implementation('compecon')   # once, so observe() need not switch it every step
    cls = CostTrainer if lam > 0 else Trainer
    tr = cls(model=model, args=args, train_dataset=enc['train'], data_collator=DataCollatorWithPadding(tok), processing_class=tok)
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter(); out = tr.train(); torch.cuda.synchronize(); wall = time.perf_counter() - t0
    peak = torch.cuda.max_memory_allocated() / 2**20
    pred = tr.predict(enc['validation'])
    m = task_metric(src['task_used'], pred.predictions, pred.label_ids)
    steps = out.global_step
    n = len(enc['train']) * epochs if not max_steps else steps * bs
    return dict(impl='trainer', task=task, task_used=src['task_used'], seed=seed, lam=lam, lr=lr, batch_size=bs, epochs=epochs,
                steps=steps, train_s=wall, samples_per_s=n / wall, trainer_samples_per_s=out.metrics.get('train_samples_per_second'),
                ms_per_step=1e3 * wall / steps, compile_s=0.0, peak_mem_mib=peak, metric_name=TASKS[src['task_used']]['metric'],
                metric=float(m[TASKS[src['task_used']]['metric']]), val=m,
                loss_in_compute_loss='L_task + λ·C_comp (observe + comp_cost, eager compecon attention)' if lam > 0 else 'L_task (stock, SDPA)')

def ours_run(task, seed, lam=0.0, lr=LR, epochs=3, bs=32, max_steps=None, compile=True, write=True, runs_dir='runs/bench'):
    torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    r = fast.fast_fit(dict(task=task, seed=seed, lam=lam, lr=lr, epochs=epochs, batch_size=bs, max_steps=max_steps,
                           compile=compile, runs_dir=runs_dir), write=write, skip_finished=False)
    m = r['metrics']
    return dict(impl='fast', task=task, task_used=m['task_used'], seed=seed, lam=lam, lr=lr, batch_size=bs, epochs=epochs,
                steps=m['steps'], train_s=m['train_s'], samples_per_s=m['samples_per_s'], ms_per_step=m['ms_per_step'],
                compile_s=m['compile_s'], peak_mem_mib=torch.cuda.max_memory_allocated() / 2**20, metric_name=m['metric_name'],
                metric=m['metric'], val={k[4:]: v for k, v in m.items() if k.startswith('val_')}, comp_cost=m['comp_cost'],
                epochs_rows=r['epochs'])

def guarded(fn, *a, **k):
    try: return fn(*a, **k)
    except Exception as e:
        traceback.print_exc(); return dict(error=f'{type(e).__name__}: {e}', args=[str(x) for x in a], kwargs={x: str(y) for x, y in k.items()})

def smoke():
    res = dict(env=env_info(), lr_sweep=[], runs=[])
    t0 = time.perf_counter()
    r = guarded(ours_run, 'sick', 0, 1e-4, epochs=1, write=False); res['runs'].append(r); log('ours compiled', r)
    if 'error' in r:
        r = guarded(ours_run, 'sick', 0, 1e-4, epochs=1, compile=False, write=False); res['runs'].append(r); log('ours eager-graphed', r)
    log(f'first fit incl. compile {time.perf_counter() - t0:.1f}s')
    for task in TASKS3:
        for lr in (2e-5, 5e-5, 1e-4, 2e-4):
            r = guarded(ours_run, task, 0, 0.0, lr=lr, write=False); res['lr_sweep'].append(r)
            log('sweep', task, lr, r.get('metric'), r.get('samples_per_s'), r.get('error'))
    t0 = time.perf_counter()
    g = guarded(fast.fast_grid, [dict(task='cola', seed=0, lam=l, lr=LR, epochs=1, max_steps=120) for l in LAMS], write=False)
    res['batched6'] = g if isinstance(g, dict) else [x['metrics'] for x in g]
    log(f'R=6 batched (incl. compile) {time.perf_counter() - t0:.1f}s')
    for lam in (0.0, 1e-4):
        r = guarded(trainer_run, 'sick', 0, lam, max_steps=60); res['runs'].append(r); log('trainer', r)
    atomic_write_json(OUT/'fast_smoke.json', res)
    log('SMOKE DONE', time.perf_counter() - T_PROCESS)

def grid(res):
    "The whole offline grid, cold (first thing in the process): wall time from the call to the last run directory written."
    cfgs = [dict(task=t, seed=sd, lam=l, lr=LR, epochs=3, runs_dir='runs/grid') for t in TASKS3 for sd in (0, 1, 2) for l in LAMS]
    torch.cuda.synchronize(); t0 = time.perf_counter()
    out = fast.fast_grid(cfgs, skip_finished=False)
    torch.cuda.synchronize(); wall = time.perf_counter() - t0
    comp = sum(e.compile_s + e.capture_s for e in fast._ENGINES.values())
    res['grid'] = dict(wall_s=wall, wall_s_from_process_start=time.perf_counter() - T_PROCESS, compile_and_capture_s=comp,
                       n_runs=len(out), runs_per_batched_model=len(LAMS), lr=LR, epochs=3, batch_size=32,
                       peak_mem_mib=torch.cuda.max_memory_allocated() / 2**20,
                       runs=[{**r['metrics'], **{k: r['config'][k] for k in ('task', 'seed', 'lam', 'lr', 'epochs')},
                              'run_dir': r['run_dir'], 'epochs_rows': r['epochs']} for r in out])
    log(f"GRID {len(out)} runs in {wall:.1f}s (compile+capture {comp:.1f}s)")

def profile(res, task='sick'):
    "torch.profiler over a few un-captured steps of the compiled step, and event-timed replays of its CUDA graph."
    from torch.profiler import profile as tprof, ProfilerActivity
    E = next(e for e in fast._ENGINES.values() if e.R == 1 and e.bs == 32)
    d = fast._DATA[next(k for k in fast._DATA if k[0] == task)]['train']
    S = 32; X = d[S]['x'][:32]; Y = torch.stack([d[S]['y'][:32], torch.ones(32, device='cuda')], -1)
    for _ in range(3): E.flat.grad = None; E.step(X, Y)
    torch.cuda.synchronize()
    with tprof(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        for _ in range(5): E.flat.grad = None; E.step(X, Y)
        torch.cuda.synchronize()
    ka = prof.key_averages()
    txt = ['# one training step of the fast path (compiled, NOT graph-captured: 5 steps profiled), MiniLM-L6, batch 32, seq 32, ' + torch.cuda.get_device_name(0),
           '## top CUDA kernels by device time', ka.table(sort_by='cuda_time_total', row_limit=25),
           '## top CPU ops by host time', ka.table(sort_by='cpu_time_total', row_limit=15)]
    key = (32, S, 2)
    if key not in E.graphs: E.run_step(X, Y)
    g = E.graphs[key][0]
    def timed(fn, n=50):
        ts = []
        for _ in range(n):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(); fn(); b.record(); b.synchronize(); ts.append(a.elapsed_time(b))
        return float(np.median(ts))
    for _ in range(5): g.replay()
    graph_ms = timed(g.replay)
    def eager_step(): E.flat.grad = None; E.step(X, Y)
    eager_ms = timed(eager_step, 20)
    n_kernels = sum(1 for e in prof.events() if e.device_type.name == 'CUDA') / 5
    dev_ms = sum(e.self_device_time_total for e in ka if e.device_type.name == 'CUDA') / 5 / 1e3
    res['profile'] = dict(graph_replay_ms=graph_ms, uncaptured_compiled_step_ms=eager_ms, kernels_per_step=n_kernels,
                          device_busy_ms_per_step=dev_ms, seq_len=S, batch_size=32)
    txt.insert(1, json.dumps(res['profile']))
    (OUT/'fast_profile.txt').write_text('\n\n'.join(txt))
    log('PROFILE', res['profile'])

def bench_all(budget_s=float(os.environ.get('FAST_BUDGET', '330'))):
    "grid (cold), then ours vs Trainer at batch 32, batch 256, profile; extra Trainer seeds while time is left."
    res = dict(env=env_info(), lr=LR, rows=[], notes=[])
    def save(): atomic_write_json(OUT/'fast_bench.json', res)
    def left(): return budget_s - (time.perf_counter() - T_PROCESS)
    g = guarded(grid, res); save()
    for task in TASKS3:                                # A/B interleaved per task: Trainer, ours λ=0, ours λ=1e-4
        res['rows'].append(guarded(trainer_run, task, 0, 0.0)); log(res['rows'][-1]); save()
        for lam in (0.0, 1e-4):
            res['rows'].append(guarded(ours_run, task, 0, lam)); log({k: v for k, v in res['rows'][-1].items() if k != 'epochs_rows'}); save()
    res['rows'].append(guarded(ours_run, 'sick', 0, 0.0, bs=256)); log(res['rows'][-1]); save()
    guarded(profile, res); save()
    if left() > 60: res['rows'].append(guarded(trainer_run, 'sick', 0, 1e-4)); log(res['rows'][-1]); save()
    if left() > 40: res['rows'].append(guarded(trainer_run, 'sick', 0, 0.0, bs=256)); log(res['rows'][-1]); save()
    for seed in (1, 2):
        for task in TASKS3:
            if left() > 75: res['rows'].append(guarded(trainer_run, task, seed, 0.0)); log(res['rows'][-1]); save()
    res['total_process_s'] = time.perf_counter() - T_PROCESS; save()
    log('BENCH DONE', res['total_process_s'])

if __name__ == '__main__':
    if sys.argv[1] == 'grid':
        res = dict(env=env_info()); grid(res); atomic_write_json(OUT/'fast_grid.json', res)
    else: {'smoke': smoke, 'all': bench_all}[sys.argv[1]]()
