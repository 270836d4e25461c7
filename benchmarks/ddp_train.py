"""Data-parallel incentive training (Eq 5) on N processes of one host: `train.fit`'s loss, optimiser, schedule and clipping,
with DistributedDataParallel from `compecon_nb.distributed`. `--batch-size` is the GLOBAL batch (split over the processes).

    python benchmarks/ddp_train.py --task sick --epochs 1 --out /tmp/ddp1.json                            # 1 process (reference)
    torchrun --standalone --nproc_per_node 2 benchmarks/ddp_train.py --task sick --epochs 1 --out /tmp/ddp2.json   # 2 GPUs
    accelerate launch --multi_gpu --num_processes 2 benchmarks/ddp_train.py --task sick --epochs 1         # same, via accelerate
    # CPU check (gloo): the same loss trajectory as one process with the same flags
    torchrun --standalone --nproc_per_node 2 benchmarks/ddp_train.py --device cpu --model bert-tiny --train-subset 32 \
        --batch-size 8 --max-steps 4 --no-dropout --no-eval --out /tmp/ddp2.json

Rank 0 writes `--out` (JSON: per-step losses averaged over processes, samples/s, world size, env) and, with `--out-dir`,
a run directory (config.json, metrics.json, DONE, the final weights under best/). Scaling efficiency on N GPUs =
samples_per_s(N processes) / (N * samples_per_s(1 process)) at the same global batch.
"""
import argparse, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import torch
import transformers
from compecon_nb import distributed as Dd, train as T, data as D, runs as R

ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
ap.add_argument('--task', default='sick'); ap.add_argument('--model', default='minilm')
ap.add_argument('--lam', type=float, default=0.0); ap.add_argument('--alpha', type=float, default=1.0)
ap.add_argument('--beta', type=float, default=1.0); ap.add_argument('--penalty', default='both')
ap.add_argument('--reduction', default='mean'); ap.add_argument('--epochs', type=int, default=1)
ap.add_argument('--lr', type=float, default=1e-4); ap.add_argument('--batch-size', type=int, default=32, help='global batch')
ap.add_argument('--warmup', type=float, default=0.1); ap.add_argument('--max-seq-len', type=int, default=128)
ap.add_argument('--seed', type=int, default=0); ap.add_argument('--max-steps', type=int, default=0)
ap.add_argument('--train-subset', type=int, default=0); ap.add_argument('--eval-subset', type=int, default=0)
ap.add_argument('--device', default='auto', help='auto | cpu | cuda (each process takes cuda:<LOCAL_RANK>)')
ap.add_argument('--no-dropout', action='store_true', help='dropout off (for an exact comparison of 1 vs N processes)')
ap.add_argument('--no-eval', action='store_true', help='skip the final evaluation on rank 0')
ap.add_argument('--out', default=None, help='JSON summary written by rank 0')
ap.add_argument('--out-dir', default=None, help='run directory written by rank 0 (runs.start_run / finish_run)')
args = ap.parse_args()

device = Dd.setup_distributed(args.device)
ws, main = Dd.world_size(), Dd.is_main()
cfg = T.make_config(task=args.task, model=args.model, lam=args.lam, alpha=args.alpha, beta=args.beta, penalty=args.penalty,
                    reduction=args.reduction, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, warmup=args.warmup,
                    max_seq_len=args.max_seq_len, seed=args.seed, max_steps=args.max_steps, train_subset=args.train_subset,
                    eval_subset=args.eval_subset, device='cuda' if device.startswith('cuda') else 'cpu', fast=False,
                    out_dir=args.out_dir)
run_dir = R.start_run(args.out_dir, dict(cfg.as_dict(), world_size=ws, loop='ddp')) if (main and args.out_dir) else None
with Dd.main_first():                                   # rank 0 tokenises first (datasets cache), the others reuse it
    p = T.prepare(cfg)                                  # same seed -> same initial weights on every rank (DDP broadcasts anyway)
model, tok, lm = p['model'], p['tokenizer'], p['kind'] == 'lm'
if args.no_dropout:
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout): m.p = 0.0
model.to(device)
if T.priced(cfg)['attn']: model.set_attn_implementation('compecon')
ddp = Dd.wrap_ddp(model, device)
cuda = device.startswith('cuda')
decay = [q for q in model.parameters() if q.ndim >= 2]; no_decay = [q for q in model.parameters() if q.ndim < 2]
opt = torch.optim.AdamW([dict(params=decay, weight_decay=cfg.weight_decay), dict(params=no_decay, weight_decay=0.0)],
                        lr=cfg.lr, **({'fused': True} if cuda else {}))
base = D.make_loader(p['train'], tok, cfg.batch_size, lm=lm)          # global batch; shard_loader splits it per epoch
steps_per_epoch = len(Dd.shard_loader(base, 0, cfg.seed))
total = cfg.epochs * steps_per_epoch if not cfg.max_steps else min(cfg.max_steps, cfg.epochs * steps_per_epoch)
sched = transformers.get_linear_schedule_with_warmup(opt, int(cfg.warmup * total), total)

steps, step, train_time, samples = [], 0, 0.0, 0
ddp.train()
for epoch in range(cfg.epochs):
    if step >= total: break
    T._sync(device); t0 = time.perf_counter()
    for batch in Dd.shard_loader(base, epoch, cfg.seed):
        if step >= total: break
        batch = T._to(batch, device)
        with T._amp(device): loss, parts = T.total_loss(ddp, batch, cfg)
        R.check_finite(loss, step + 1)
        loss.backward()                                                # DDP all-reduces (averages) the gradients here
        if cfg.max_grad_norm: torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
        opt.step(); sched.step(); opt.zero_grad(set_to_none=True)
        step += 1; samples += batch['input_ids'].shape[0] * ws
        steps.append(dict(step=step, epoch=epoch, lr=sched.get_last_lr()[0],
                          **Dd.all_reduce_mean(dict(loss=loss.item(), task=parts['task'].item(), cost=parts['cost'].item()))))
    T._sync(device); train_time += time.perf_counter() - t0
    if main: print(f"epoch {epoch}: {step} steps, last loss {steps[-1]['loss']:.4f}, {samples / train_time:.1f} samples/s", flush=True)

out = dict(world_size=ws, backend=Dd.backend(), device=device,
           global_batch=cfg.batch_size, per_process_batch=cfg.batch_size // ws, steps_total=step, train_time_s=train_time,
           samples=samples, samples_per_s=samples / max(train_time, 1e-9), no_dropout=args.no_dropout,
           config=cfg.as_dict(), steps=steps)
if main:
    net = Dd.unwrap(ddp)
    if not args.no_eval:
        sel = next(iter(p['evals']))
        ev = T.measure(net, D.make_loader(p['evals'][sel], tok, max(2 * cfg.batch_size, 64), lm=lm), cfg, device)
        out.update(eval_split=sel, eval=ev, score=ev[p['metric']], metric=p['metric'])
    out['env'] = R.env_info()
    if run_dir is not None:
        R.save_checkpoint(run_dir/'best', net, step=step, rng=False, extra=dict(epoch=cfg.epochs - 1))
        R.finish_run(run_dir, {k: v for k, v in out.items() if k != 'env'}, env=out['env'])
    if args.out: R.atomic_write_json(args.out, out)
    print(f"world size {ws}: {out['samples_per_s']:.1f} samples/s over {step} steps" +
          (f", {sel} {p['metric']} {out['score']:.4f}" if not args.no_eval else ''), flush=True)
Dd.barrier()
Dd.cleanup()
