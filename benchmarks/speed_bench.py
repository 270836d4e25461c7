"""Real speed of incentive-trained MiniLM on the GPU (nbs/06_speed.ipynb reads what this writes).

One call does everything, so that every ratio comes from one run on one device:
  1. fine-tune the embedded MiniLM-L6 on the task (SICK = offline stand-in for MNLI) at λ = 0 and each λ > 0 with the
     FFN term of Eq 2 (sum over tokens, neurons, layers: the paper's λ scale), bf16 autocast, fused AdamW;
  2. find idle agents over the training data (compecon_nb.speed.agent_activity), compact them (select_neurons /
     select_heads / compact: widths at multiples of 64), check compacted == masked and the save/load round trip;
  3. metric (test split) of dense, masked and compacted models in bf16; theoretical and executed FLOPs;
  4. batch-1 latency (eager, torch.compile, CUDA graphs via mode="reduce-overhead") and large-batch throughput at the
     task's real lengths, dense vs compacted, timed interleaved (compecon_nb.speed.interleaved);
  5. top-k attention at long sequences: FlexAttention block masks (sliding window, block top-k) vs dense SDPA on the
     GPT-2-style 'comparable' model (random init: timing only).
Writes JSON (atomically, after every stage) to --out.

GPU:  python benchmarks/speed_bench.py --out $OUT/speed.json
CPU smoke test (tiny random BERT, a few steps):  python benchmarks/speed_bench.py --tiny --out /tmp/speed_tiny.json
Compute-bound check of the measured shapes on a CPU (timing depends on shapes only; weights are MiniLM's, cut to the
compacted widths of the GPU run):  python benchmarks/speed_bench.py --cpu-shapes results/speed.json --out results/speed_cpu.json
"""
from __future__ import annotations
import argparse, copy, json, math, os, sys, tempfile, time, traceback
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from compecon_nb.data import load_task, load_model, encode_task, make_loader, task_metric, subset, TASKS, gpt2_config
from compecon_nb.framework import dims, ffn_modules, counted_flops, load_pruned, widths
from compecon_nb.speed import (shaped_like, agent_activity, select_neurons, select_heads, masked, compact, theoretical_flops,
                               interleaved, sliding_window_mask, topk_block_mask, masked_topk_attention)

T0 = time.time()
def elapsed(): return time.time() - T0
def log(*a): print(f"[{elapsed():6.1f}s]", *a, flush=True)

def env():
    try:
        from compecon_nb.runs import env_info
        e = env_info()
    except Exception as ex: e = dict(env_info_error=repr(ex))
    import transformers, platform
    e.update(torch=torch.__version__, transformers=transformers.__version__, python=platform.python_version(),
             device_name=torch.cuda.get_device_name() if torch.cuda.is_available() else 'cpu',
             cuda=torch.version.cuda)
    return e

def save(res, path):
    res['wall_s'] = round(elapsed(), 1)
    tmp = Path(str(path) + '.part'); tmp.write_text(json.dumps(res, indent=1, default=float)); os.replace(tmp, path)

def to_dev(b, dev): return {k: v.to(dev) for k, v in b.items()}
INPUTS = ('input_ids', 'attention_mask', 'token_type_ids')

# ---------------------------------------------------------------- training (compact loop; see 04_train for the real one)
def train(model0, enc, tok, lam, a, dev):
    torch.manual_seed(a.seed)
    model = copy.deepcopy(model0).to(dev).train()
    dl = make_loader(enc['train'], tok, a.batch, shuffle=True, seed=a.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01, **({'fused': True} if dev == 'cuda' else {}))
    total = a.epochs * len(dl) if a.max_steps is None else min(a.max_steps, a.epochs * len(dl))
    warm = max(1, int(0.1 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0., (total - s) / max(1, total - warm))))
    pre = {}
    hooks = [lin.register_forward_hook(lambda m, i, o, l=l: pre.__setitem__(l, o)) for l, (lin, _) in enumerate(ffn_modules(model))]
    step, t, ce, cost = 0, time.time(), float('nan'), float('nan')
    while step < total:
        for b in dl:
            b = to_dev(b, dev)
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == 'cuda'):
                out = model(**b)
            m = b['attention_mask'].float()
            c = sum((torch.relu(p.float()).sum(-1) * m).sum(-1) for p in pre.values()).mean()   # Eq 2 FFN term, per example
            loss = out.loss.float() + lam * c
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step(); sched.step(); opt.zero_grad(set_to_none=True)
            step += 1
            if step >= total: break
        ce, cost = out.loss.item(), c.item()
    for h in hooks: h.remove()
    return model.eval(), dict(steps=step, train_s=round(time.time() - t, 1), last_ce=ce, last_cost=cost)

@torch.no_grad()
def evaluate(model, enc, tok, task, split, dev, ctx=None):
    key = TASKS[task]['metric'] if TASKS[task]['metric'] != 'mcc' else 'mcc'
    preds, labels = [], []
    with (ctx if ctx is not None else _null()):
        for b in make_loader(enc[split], tok, 256):
            labels.append(b['labels'])
            preds.append(model(**{k: v.to(dev) for k, v in b.items() if k in INPUTS}).logits.float().cpu())
    return task_metric(task, torch.cat(preds), torch.cat(labels))[key]

class _null:
    def __enter__(self): return None
    def __exit__(self, *a): return False

def bf16(model, dev):
    return copy.deepcopy(model).to(device=dev, dtype=torch.bfloat16 if dev == 'cuda' else torch.float32).eval()

# ---------------------------------------------------------------- FlexAttention at long sequences
def flex_part(a, dev, res, path):
    out = res['flex'] = dict(rows=[], model='GPT-2-style "comparable" (6 layers x 384, 12 heads of 32), random init, bf16, batch 1',
                             k=a.flex_k, block=128)
    try:
        from torch.nn.attention.flex_attention import flex_attention
        out['available'] = True
    except Exception as e:
        out.update(available=False, error=repr(e)); return
    import torch.nn.functional as F
    from transformers import AttentionInterface, GPT2Model
    flex = torch.compile(flex_attention, dynamic=False)
    dt = torch.bfloat16 if dev == 'cuda' else torch.float32
    H, dh = 12, 32
    state = {}
    def flex_block_attention(module, query, key, value, attention_mask, scaling=None, dropout=0.0, **kw):
        bm = state['mask'] if state['kind'] == 'sliding' else topk_block_mask(query, key, a.flex_k // 128, exact_mask_mod=False)
        o = flex(query, key, value, block_mask=bm, scale=scaling)
        return o.transpose(1, 2).contiguous(), None
    AttentionInterface.register('flex_block', flex_block_attention)
    for N in a.flex_seqs:
        if elapsed() > a.budget_s - 30: res['skipped'].append(f'flex N={N}: out of time'); break
        g = torch.Generator(device=dev).manual_seed(N)
        q, k, v = (torch.randn(1, H, N, dh, device=dev, dtype=dt, generator=g) for _ in range(3))
        sw = sliding_window_mask(N, a.flex_k, device=dev)
        tk = topk_block_mask(q, k, a.flex_k // 128, exact_mask_mod=False)
        causal_bm = sliding_window_mask(N, N, device=dev)
        fns = {'sdpa (dense, causal)': lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True),
               'flex dense causal': lambda: flex(q, k, v, block_mask=causal_bm),
               f'flex sliding window {a.flex_k}': lambda: flex(q, k, v, block_mask=sw),
               f'flex block top-k {a.flex_k}': lambda: flex(q, k, v, block_mask=tk),
               f'flex block top-k {a.flex_k} incl. selection': lambda: flex(q, k, v, block_mask=topk_block_mask(q, k, a.flex_k // 128, exact_mask_mod=False)),
               f'masked top-k {a.flex_k} (eager, all N² scores)': lambda: masked_topk_attention(q, k, v, a.flex_k)}
        # correctness of the compiled kernel against the dense reference restricted to the same tiles
        with torch.no_grad():
            tiles = tk.to_dense()[0].bool()
            allowed = tiles.repeat_interleave(128, -2).repeat_interleave(128, -1) & torch.ones(N, N, dtype=torch.bool, device=dev).tril()
            ref = torch.softmax((q.float() @ k.float().transpose(-1, -2) * dh ** -0.5).masked_fill(~allowed, float('-inf')), -1) @ v.float()
            got = flex(q, k, v, block_mask=tk).float()
            rel = ((got - ref).norm() / ref.norm()).item()
            del ref, allowed
        t = interleaved(fns, rounds=a.flex_rounds, warmup=2, inner=5)
        base = t['sdpa (dense, causal)']['median']
        dens = dict(zip(fns, [1.0, 1.0, sw.sparsity(), tk.sparsity(), tk.sparsity(), 1.0]))
        for name, r in t.items():
            out['rows'].append(dict(level='attention kernel', seq_len=N, variant=name, ms=r['median'] * 1e3, p10_ms=r['p10'] * 1e3,
                                    p90_ms=r['p90'] * 1e3, speedup=base / r['median'],
                                    tiles_skipped_pct=(dens[name] if 'flex' in name and 'dense' not in name else 0.0),
                                    rel_err_vs_reference=(rel if 'block top-k' in name else None)))
        log(f'flex kernels N={N}:', {k_: round(r['median'] * 1e3, 3) for k_, r in t.items()}, f'rel err {rel:.2e}')
        # whole model (transformer body, no LM head): SDPA vs FlexAttention, both eager apart from the attention kernel
        cfg = gpt2_config('comparable', n_positions=N)
        body = GPT2Model(cfg).to(device=dev, dtype=dt).eval()
        body.set_attn_implementation('sdpa')
        fbody = copy.deepcopy(body); fbody.set_attn_implementation('flex_block')
        ids = torch.randint(0, cfg.vocab_size, (1, N), device=dev, generator=g)
        state['mask'] = sw
        def run_flex(kind):
            def f():
                state['kind'] = kind
                with torch.no_grad(): fbody(input_ids=ids)
            return f
        def run_sdpa():
            with torch.no_grad(): body(input_ids=ids)
        mf = {'sdpa model': run_sdpa, f'flex sliding window {a.flex_k} model': run_flex('sliding'),
              f'flex block top-k {a.flex_k} model (incl. selection)': run_flex('topk')}
        t = interleaved(mf, rounds=a.flex_rounds, warmup=2, inner=3)
        base = t['sdpa model']['median']
        for name, r in t.items():
            out['rows'].append(dict(level='model body', seq_len=N, variant=name, ms=r['median'] * 1e3, p10_ms=r['p10'] * 1e3,
                                    p90_ms=r['p90'] * 1e3, speedup=base / r['median']))
        log(f'flex model N={N}:', {k_: round(r['median'] * 1e3, 3) for k_, r in t.items()})
        del body, fbody; save(res, path)

# ---------------------------------------------------------------- compute-bound check of the compacted shapes (CPU)
def cpu_shapes(a):
    torch.set_num_threads(a.threads)
    g = json.loads(Path(a.cpu_shapes).read_text())
    model, tok = load_model('minilm', g['task']['used'])
    model.eval()
    ds, _ = load_task(g['task']['used'])
    enc = encode_task(ds[g['task']['eval_split']].select(range(a.cpu_batch)), tok, g['task']['used'], 128)
    L = g['seq']['throughput_len']
    x = tok.pad({k: enc[k] for k in enc.column_names if k in INPUTS}, padding='max_length', max_length=L, return_tensors='pt')
    rows = [r for r in g['rows'] if r['model'] == 'compacted' and r['lam'] > 0]
    dense = next(r for r in g['rows'] if r['model'] == 'dense')
    models = {0.0: model, **{r['lam']: shaped_like(model, r['widths']) for r in rows}}
    def run(m):
        def f():
            with torch.no_grad(): m(**x)
        return f
    t = interleaved({lam: run(m) for lam, m in models.items()}, rounds=a.rounds, warmup=1, inner=1, sync=lambda: None)
    base = t[0.0]['median']
    out = []
    for lam, r in t.items():
        gr = dense if lam == 0 else next(x_ for x_ in rows if x_['lam'] == lam)
        out.append(dict(lam=lam, model='dense' if lam == 0 else 'compacted (shapes)', ms=r['median'] * 1e3, p10_ms=r['p10'] * 1e3,
                        p90_ms=r['p90'] * 1e3, throughput=a.cpu_batch / r['median'], speedup=base / r['median'],
                        flop_ratio=dense['gflops_executed'] / gr['gflops_executed'], metric_drop=gr['metric_drop']))
        log(f"λ={lam:g}: {r['median'] * 1e3:.1f} ms  ×{base / r['median']:.2f}  (FLOP ratio {out[-1]['flop_ratio']:.2f})")
    res = dict(env=env(), threads=a.threads, batch=a.cpu_batch, seq_len=L, source=str(a.cpu_shapes), rows=out,
               note='eager fp32 on the CPU, MiniLM weights cut to the compacted widths of the GPU run (timing depends on shapes only); '
                    'metric_drop is the GPU run\'s')
    save(res, Path(a.out))

# ---------------------------------------------------------------- main
def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out', default='results/speed.json')
    p.add_argument('--task', default='mnli', help="offline: SICK stands in for MNLI (named in the JSON)")
    p.add_argument('--lams', default='0,1e-6,3e-6,1e-5,3e-5,1e-4')
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--max-steps', type=int, default=None)
    p.add_argument('--lr', type=float, default=1e-4)
    p.add_argument('--batch', type=int, default=32)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--eps', type=float, default=0.01, help='a neuron firing on < eps of training tokens is idle')
    p.add_argument('--multiple', type=int, default=64, help='kept widths are multiples of this many channels')
    p.add_argument('--head-taus', default='0,0.02,0.04,0.06', help='head share thresholds tried; chosen on validation')
    p.add_argument('--head-tol', type=float, default=0.5, help='points of validation metric head removal may cost')
    p.add_argument('--stat-examples', type=int, default=2000)
    p.add_argument('--tput-batch', type=int, default=256, help='large batch; 1024+ moves MiniLM on an H100 towards compute-bound')
    p.add_argument('--rounds', type=int, default=15)
    p.add_argument('--compile-max', type=int, default=3, help='compacted models compiled (besides dense)')
    p.add_argument('--no-compile', action='store_true')
    p.add_argument('--flex-seqs', default='2048,4096')
    p.add_argument('--flex-k', type=int, default=256)
    p.add_argument('--flex-rounds', type=int, default=10)
    p.add_argument('--budget-s', type=float, default=285, help='stop optional stages past this many seconds')
    p.add_argument('--cpu-shapes', default=None, help='a GPU speed.json: time its compacted shapes on the CPU instead')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--cpu-batch', type=int, default=32)
    p.add_argument('--tiny', action='store_true', help='CPU smoke test: tiny random BERT, a few examples')
    a = p.parse_args()
    a.lams = [float(x) for x in a.lams.split(',')]
    a.head_taus = [float(x) for x in a.head_taus.split(',')]
    a.flex_seqs = [int(x) for x in a.flex_seqs.split(',') if x]
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    if a.cpu_shapes: return cpu_shapes(a)
    if a.tiny:
        a.epochs, a.max_steps, a.stat_examples, a.tput_batch, a.rounds, a.multiple, a.eps = 1, 4, 32, 8, 2, 8, 0.4
        a.flex_seqs, a.flex_k, a.flex_rounds = ([256] if dev == 'cpu' else a.flex_seqs), 128, 1
    path = Path(a.out); path.parent.mkdir(parents=True, exist_ok=True)
    for k_, v_ in (('recompile_limit', 256), ('cache_size_limit', 256), ('accumulated_recompile_limit', 4096), ('accumulated_cache_size_limit', 4096)):
        if hasattr(torch._dynamo.config, k_): setattr(torch._dynamo.config, k_, v_)   # several models: never fall back to eager
    torch.backends.cuda.matmul.allow_tf32 = True

    res = dict(env=env(), config=vars(a), rows=[], equivalence=[], skipped=[], notes=[])
    ds, src = load_task(a.task)
    info = TASKS[src['task_used']]
    task = src['task_used']
    model0, tok = load_model('bert-tiny' if a.tiny else 'minilm', task)
    enc = encode_task(ds, tok, task, 128)
    if a.tiny: enc = subset(enc, 48)
    eval_split = 'test' if 'test' in enc else info['eval_splits'][0]
    val_split = 'validation' if 'validation' in enc else info['eval_splits'][0]
    metric_key = 'mcc' if info['metric'] == 'mcc' else info['metric']
    lens = sorted(len(x) for x in enc[eval_split]['input_ids'])
    L_lat, L_max = lens[len(lens) // 2], lens[-1]
    L_tp = int(math.ceil(L_max / 8) * 8)
    d = dims(model0)
    res['task'] = dict(requested=src['task_requested'], used=task, where=src['where'], eval_split=eval_split,
                       n_eval=len(enc[eval_split]), val_split=val_split, metric=metric_key,
                       label=f"{task.upper()} {eval_split}" + (f" (offline stand-in for {src['task_requested'].upper()})" if task != src['task_requested'] else ''))
    res['model'] = dict(name='bert-tiny (random)' if a.tiny else 'MiniLM-L6-H384 (embedded)', **{k: d[k] for k in ('n_layers', 'n_heads', 'd_model', 'd_head', 'd_ff')})
    res['seq'] = dict(latency_len=L_lat, latency_note='one real example of median length, batch 1, no padding',
                      throughput_len=L_tp, throughput_batch=a.tput_batch,
                      throughput_note=f'real {eval_split} examples padded to the longest ({L_max} tokens) rounded up to a multiple of 8')
    log('task', res['task'], 'lengths', res['seq'])

    # 1-3: train, find idle agents, compact, evaluate --------------------------------------------------------------
    stat_dl = list(make_loader(subset(enc['train'], a.stat_examples, seed=1), tok, 128))
    models, trained = {}, {}
    dense_metric = None
    for lam in a.lams:
        m, tr = train(model0, enc, tok, lam, a, dev)
        act = agent_activity(m, stat_dl)
        neurons = select_neurons(act['fire'], a.eps, a.multiple)
        fire_all = torch.cat([act['fire'][l] for l in sorted(act['fire'])])
        mb = bf16(m, dev)
        row_d = dict(lam=lam, model='dense' if lam == 0 else 'masked', **tr)
        met_dense = evaluate(mb, enc, tok, task, eval_split, dev)
        if lam == 0:
            dense_metric = met_dense
            row_d.update(metric=met_dense, metric_val=evaluate(mb, enc, tok, task, val_split, dev))
        # head threshold chosen on validation: the largest tau costing <= head_tol points vs FFN-only compaction
        val = {}
        for tau in a.head_taus:
            heads = select_heads(act['share'], d['d_head'], tau, a.multiple)
            c = bf16(compact(m, neurons, heads, act), dev)
            val[tau] = (evaluate(c, enc, tok, task, val_split, dev), heads, sum(map(len, heads.values())))
        tau0 = a.head_taus[0]
        ok = [t for t in a.head_taus if val[t][0] >= val[tau0][0] - a.head_tol / 100]
        tau = max(ok, key=lambda t: (val[t][2], t))
        heads = val[tau][1]
        small = compact(m, neurons, heads, act)
        sb = bf16(small, dev)
        # equivalence: compacted == masked (fp32), and the save_pretrained -> load_pruned round trip
        xb = to_dev({k: v for k, v in next(iter(make_loader(enc[val_split], tok, 64))).items() if k in INPUTS}, dev)
        with torch.no_grad():
            with masked(m, neurons, heads, act): ref = m(**xb).logits.float()
            got = small(**xb).logits.float()
            orig = m(**xb).logits.float()
            with tempfile.TemporaryDirectory() as tdir:
                small.save_pretrained(tdir); back = load_pruned(tdir).to(dev)
                rt = (back(**xb).logits.float() - got).abs().max().item()
        eq = dict(lam=lam, max_abs_logit_diff_compacted_vs_masked_fp32=(got - ref).abs().max().item(),
                  max_abs_logit=ref.abs().max().item(), argmax_agree_compacted_vs_masked=(got.argmax(-1) == ref.argmax(-1)).float().mean().item(),
                  max_abs_logit_diff_masked_vs_original_fp32=(ref - orig).abs().max().item(),
                  roundtrip_max_abs_diff=rt, n=len(got))
        res['equivalence'].append(eq)
        met_masked = evaluate(mb, enc, tok, task, eval_split, dev, ctx=masked(mb, neurons, heads, act))
        met_small = evaluate(sb, enc, tok, task, eval_split, dev)
        sparsity = float((fire_all < a.eps).float().mean())
        ids1 = torch.tensor([enc[eval_split]['input_ids'][[len(x) for x in enc[eval_split]['input_ids']].index(L_lat)]], device=dev)
        fl = dict(dense=theoretical_flops(m, L_lat)['total'], masked=theoretical_flops(m, L_lat, neurons, heads)['total'],
                  compacted=theoretical_flops(small, L_lat)['total'])
        with masked(m, neurons, heads, act): ex_masked = counted_flops(m, ids1)
        ex = dict(dense=counted_flops(m, ids1), masked=ex_masked, compacted=counted_flops(small, ids1))
        common = dict(ffn_idle_frac=sparsity, eps=a.eps, head_tau=tau, head_val={str(t): dict(metric_val=v[0], heads_removed=v[2]) for t, v in val.items()})
        if lam > 0:
            row_d.update(metric=met_masked, metric_unmasked=met_dense, gflops_theoretical=fl['masked'] / 1e9, gflops_executed=ex['masked'] / 1e9, **common,
                         ffn_kept=1.0, heads_kept=1.0)
        else:
            row_d.update(gflops_theoretical=fl['dense'] / 1e9, gflops_executed=ex['dense'] / 1e9, ffn_kept=1.0, heads_kept=1.0, ffn_idle_frac=sparsity)
        w = widths(small)
        row_c = dict(lam=lam, model='compacted', **tr, metric=met_small, widths=w, **common,
                     ffn_kept=sum(f for _, f in w) / (d['d_ff'] * d['n_layers']), heads_kept=sum(x for x, _ in w) / (d['d_model'] * d['n_layers']),
                     gflops_theoretical=fl['compacted'] / 1e9, gflops_executed=ex['compacted'] / 1e9)
        res['rows'] += [row_d, row_c]
        models[('dense' if lam == 0 else 'masked', lam)] = (mb, neurons, heads, act)
        models[('compacted', lam)] = (sb, None, None, None)
        log(f'λ={lam:g}: train {tr} | idle FFN {sparsity:.3f} | kept ffn {row_c["ffn_kept"]:.3f} heads {row_c["heads_kept"]:.3f} (tau {tau}) | '
            f'metric dense/masked/compacted {met_dense:.4f}/{met_masked:.4f}/{met_small:.4f} | eq {eq["max_abs_logit_diff_compacted_vs_masked_fp32"]:.2e} rt {rt:.1e} | '
            f'GFLOPs th {fl["compacted"]/1e9:.3f} ex {ex["compacted"]/1e9:.3f} vs dense {ex["dense"]/1e9:.3f}')
        del m, small
        save(res, path)
    for r in res['rows']:
        r['metric_drop'] = (dense_metric - r['metric']) * 100 if r.get('metric') is not None else None

    # 4: timing ------------------------------------------------------------------------------------------------------
    ev = enc[eval_split]
    ids1 = torch.tensor([ev['input_ids'][[len(x) for x in ev['input_ids']].index(L_lat)]], device=dev)
    lat_in = dict(input_ids=ids1, attention_mask=torch.ones_like(ids1))
    if 'token_type_ids' in ev.column_names: lat_in['token_type_ids'] = torch.tensor([ev['token_type_ids'][[len(x) for x in ev['input_ids']].index(L_lat)]], device=dev)
    tp_in = []
    for j in range(4):
        sel = ev.select(range(j * a.tput_batch % len(ev), min(len(ev), j * a.tput_batch % len(ev) + a.tput_batch)))
        b = tok.pad({k: sel[k] for k in sel.column_names if k in INPUTS}, padding='max_length', max_length=L_tp, return_tensors='pt')
        b = {k: v[:, :L_tp] for k, v in b.items()}
        if len(b['input_ids']) < a.tput_batch: b = {k: v.repeat(math.ceil(a.tput_batch / len(v)), 1)[:a.tput_batch] for k, v in b.items()}
        tp_in.append(to_dev(b, dev))
    def runner(model, inputs, ctx=None):
        it = [0]
        def f():
            x = inputs[it[0] % len(inputs)] if isinstance(inputs, list) else inputs; it[0] += 1
            with torch.no_grad(), (ctx() if ctx else _null()): model(**x)
        return f
    lam_pos = [l for l in a.lams if l > 0]
    compacted_keys = [('compacted', l) for l in a.lams]
    masked_key = ('masked', max(lam_pos)) if lam_pos else None
    eager = {('dense', 0.0): models[('dense', 0.0)][0], **{k: models[k][0] for k in compacted_keys}}
    mask_cm = None
    if masked_key:
        mb_, n_, h_, act_ = models[masked_key]
        mask_cm = masked(mb_, n_, h_, act_); mask_cm.__enter__()      # hooks stay on the masked model while it is timed
    for what, inp, B in (('latency_ms', lat_in, 1), ('throughput', tp_in, a.tput_batch)):
        fns = {k: runner(m_, inp) for k, m_ in eager.items()}
        if masked_key: fns[masked_key] = runner(models[masked_key][0], inp)
        t = interleaved(fns, rounds=a.rounds, warmup=3, inner=10 if B == 1 else 3)
        for k, r in t.items():
            row = next(r_ for r_ in res['rows'] if (r_['model'], r_['lam']) == k)
            row.setdefault('latency_ms', {}); row.setdefault('throughput', {})
            if what == 'latency_ms': row['latency_ms']['eager'] = r['median'] * 1e3
            else: row['throughput']['eager'] = B / r['median']
        log(what, 'eager', {f'{k[0]}@{k[1]:g}': round(r['median'] * 1e3, 3) for k, r in t.items()})
    if mask_cm: mask_cm.__exit__(None, None, None)
    save(res, path)

    # 5: FlexAttention (before compiling the BERTs, so a slow compile cannot starve it) -----------------------------
    if a.flex_seqs:
        try: flex_part(a, dev, res, path)
        except Exception as e:
            res['flex']['error'] = f'{type(e).__name__}: {e}'; log('flex failed', traceback.format_exc()[-2000:])
        save(res, path)

    # 4b: compiled: default mode (b1 and large batch) and reduce-overhead (CUDA graphs, b1) ----------------------------
    if not a.no_compile:
        row_of = lambda k: next(r for r in res['rows'] if (r['model'], r['lam']) == k)
        cands = [k for k in compacted_keys if k[1] > 0]
        # the most compact models within the 1-point goal first, then the most compact of the others
        ok = sorted([k for k in cands if row_of(k)['metric_drop'] <= 1.0], key=lambda k: row_of(k)['gflops_executed'])
        others = sorted([k for k in cands if k not in ok], key=lambda k: row_of(k)['gflops_executed'])
        chosen = [('dense', 0.0)] + (ok[:2] + others[:1] + ok[2:] + others[1:])[:a.compile_max]
        res['compiled_models'] = [f'{k[0]}@{k[1]:g}' for k in chosen]
        compiled = {}
        per_model = None
        for k in chosen:
            if per_model and elapsed() + per_model > a.budget_s:
                res['skipped'].append(f'compile {k}: out of time'); continue
            t = time.time()
            try:
                m_ = eager[k]
                cd = torch.compile(m_, dynamic=False)
                cg = torch.compile(m_, mode='reduce-overhead', dynamic=False)
                with torch.no_grad():
                    for _ in range(3): cd(**lat_in); cd(**tp_in[0]); cg(**lat_in); cg(**tp_in[0])
                compiled[k] = (cd, cg)
            except Exception as e:
                res['skipped'].append(f'compile {k}: {type(e).__name__}: {str(e)[:300]}'); log('compile failed', k, traceback.format_exc()[-1500:]); continue
            per_model = max(per_model or 0, time.time() - t)
            log(f'compiled {k} in {time.time() - t:.1f}s')
        if compiled:
          try:
              for what, inp, B, idx, name in (('latency_ms', lat_in, 1, 0, 'compiled'), ('latency_ms', lat_in, 1, 1, 'graphs'),
                                              ('throughput', tp_in, a.tput_batch, 0, 'compiled'), ('throughput', tp_in, a.tput_batch, 1, 'graphs')):
                  fns = {k: runner(c[idx], inp) for k, c in compiled.items()}
                  t = interleaved(fns, rounds=a.rounds, warmup=3, inner=10 if B == 1 else 3)
                  for k, r in t.items():
                      row = next(r_ for r_ in res['rows'] if (r_['model'], r_['lam']) == k)
                      row[what][name] = r['median'] * 1e3 if what == 'latency_ms' else B / r['median']
                  log(what, name, {f'{k[0]}@{k[1]:g}': round(r['median'] * 1e3, 3) for k, r in t.items()})

          except Exception as e:
            res['skipped'].append(f'compiled timing: {type(e).__name__}: {str(e)[:300]}'); log(traceback.format_exc()[-1500:])
        save(res, path)

    # speedups: every ratio names its baseline -----------------------------------------------------------------------
    base = next(r for r in res['rows'] if r['model'] == 'dense')
    for r in res['rows']:
        s = {}
        for rt in ('eager', 'compiled', 'graphs'):
            if rt in r.get('throughput', {}) and rt in base.get('throughput', {}):
                s[f'throughput_{rt}_vs_dense_{rt}'] = r['throughput'][rt] / base['throughput'][rt]
        for rt in ('eager', 'compiled', 'graphs'):
            if rt in r.get('latency_ms', {}) and rt in base.get('latency_ms', {}):
                s[f'latency_{rt}_vs_dense_{rt}'] = base['latency_ms'][rt] / r['latency_ms'][rt]
        if 'compiled' in r.get('throughput', {}): s['throughput_compiled_vs_dense_eager'] = r['throughput']['compiled'] / base['throughput']['eager']
        if 'graphs' in r.get('latency_ms', {}): s['latency_graphs_vs_dense_eager'] = base['latency_ms']['eager'] / r['latency_ms']['graphs']
        r['speedups'] = s
        # headline: large-batch throughput in the fastest runtime measured for both (CUDA graphs > compiled > eager)
        rt = next((x for x in ('graphs', 'compiled', 'eager') if f'throughput_{x}_vs_dense_{x}' in s), None)
        r['speedup'] = s.get(f'throughput_{rt}_vs_dense_{rt}') if rt else None
        r['speedup_baseline'] = f'throughput, {rt} vs dense {rt} (same runtime)' if rt else None
        r['goal_met'] = bool(r['model'] == 'compacted' and r['speedup'] and r['speedup'] >= 2.0 and r.get('metric_drop') is not None and r['metric_drop'] <= 1.0)
    save(res, path)
    log('done')
    print(f"\n{'model':10} {'λ':>7} {'metric':>7} {'drop':>6} {'ffn':>5} {'heads':>5} {'GF th/ex':>13} {'lat e/c/g ms':>20} {'tput e/c/g':>24} {'speedup':>7}")
    for r in res['rows']:
        la, tp = r.get('latency_ms', {}), r.get('throughput', {})
        print(f"{r['model']:10} {r['lam']:7.0e} {r['metric']:7.4f} {r['metric_drop']:6.2f} {r['ffn_kept']:5.2f} {r['heads_kept']:5.2f} "
              f"{r['gflops_theoretical']:6.3f}/{r['gflops_executed']:6.3f} "
              f"{la.get('eager', float('nan')):6.2f}/{la.get('compiled', float('nan')):6.2f}/{la.get('graphs', float('nan')):6.3f} "
              f"{tp.get('eager', float('nan')):7.0f}/{tp.get('compiled', float('nan')):7.0f}/{tp.get('graphs', float('nan')):7.0f} {r['speedup'] or float('nan'):7.2f}")
    for r in res.get('flex', {}).get('rows', []):
        print(f"flex {r['level']:16} N={r['seq_len']:5} {r['variant']:48} {r['ms']:8.3f} ms  x{r['speedup']:.2f}")
    print('skipped:', res['skipped'])

if __name__ == '__main__':
    main()
