"""compecon-fastbench --tiny on the CPU (bert-tiny, small subsets, one epoch; about a minute on 2 cores): rows for the stock
Trainer and for ours (train.fit), a stamped results file, and the command line as the console script parses it."""
import json, math, os
os.environ.setdefault('OMP_NUM_THREADS', '1')
from fastcore.script import anno_parser
from compecon_nb.fast import fast_bench_cli


def test_fastbench_tiny(tmp_path):
    out = tmp_path/'fast_bench_tiny.json'
    fast_bench_cli(tiny=True, out=str(out), runs_dir=str(tmp_path/'runs'), lams='0,1e-4', lrs='3e-4')
    f = json.loads(out.read_text())
    rows = f['rows']
    assert {r['impl'] for r in rows} == {'trainer', 'fast'}
    assert {(r['task'], r['impl']) for r in rows} == {(t, i) for t in ('sick', 'stsb', 'cola') for i in ('trainer', 'fast')}
    assert sorted((r['lam'], r['lr']) for r in rows if r['impl'] == 'fast' and r['task'] == 'sick') == [(0.0, 1e-4), (0.0, 3e-4), (1e-4, 1e-4)]
    lr_check = [r for r in rows if r['lr'] == 3e-4]                          # the lr check: λ = 0, chosen on the selection split
    assert len(lr_check) == 3 and all(r['lam'] == 0 and r['selection_split'] and math.isfinite(r['val_score']) for r in lr_check)
    for r in rows:
        assert r['samples_per_s'] > 0 and math.isfinite(r['metric']), r
        assert r['peak_mem_mib'] is None and r['epochs'] == 1 and r['engine'] in ('fast', 'plain', 'transformers.Trainer')
    assert set(rows[0]) - {'trainer_samples_per_s'} == set(rows[1])         # one schema for both impls (+ the Trainer's own count)
    assert f['config']['tiny'] and f['config']['model'] == 'bert-tiny' and 'grid' not in f
    assert 'code_commit' in f['code'] and f['env']['device_type'] == 'cpu'   # stamped by runs.write_results


def test_fastbench_args():
    p = anno_parser(fast_bench_cli.__wrapped__, 'compecon-fastbench')
    a = p.parse_args([])
    assert (a.out, a.tasks, a.lams, a.seed, a.epochs, a.batch_size, a.lr, a.trainer, a.tiny) == \
           ('results/fast_bench.json', 'sick,stsb,cola', '0', 0, 3, 32, 1e-4, True, False)
    a = p.parse_args(['--tiny', '--trainer', 'False', '--lams', '0,1e-5', '--batch-size', '16'])
    assert (a.tiny, a.trainer, a.lams, a.batch_size) == (True, False, '0,1e-5', 16)
    assert p.parse_args(['--lrs', '2e-5,3e-4']).lrs == '2e-5,3e-4'
