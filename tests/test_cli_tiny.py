"The --tiny modes of the experiment commands, run in-process on CPU (bert-tiny, 64 rows): each writes a stamped results file."
import json, os
os.environ.setdefault('OMP_NUM_THREADS', '1')
from compecon_nb.prune import pruning_experiment
from compecon_nb.scarcity import scarcity_experiment

def test_pruning_tiny(tmp_path):
    out = tmp_path / 'pruning.json'
    pruning_experiment(out=str(out), tiny=True, lam_runs=True, runs_dir=str(tmp_path / 'runs'))
    f = json.loads(out.read_text())
    assert f['errors'] == [] and f['env'] and f['code']                       # stamped by runs.write_results
    assert sorted({p['family'] for p in f['points']}) == ['both', 'dense', 'heads', 'neurons']
    assert any(p['recover_steps'] for p in f['points'])                        # a recovered model (train.fit(init=pruned))
    assert sorted(r['penalty'] for r in f['lam_runs']) == ['attention', 'both', 'ffn']
    assert f['heatmap']['lam_high'] is not None and f['runs'][0]['eval_split'] == 'test'

def test_scarcity_tiny(tmp_path):
    out = tmp_path / 'scarcity.json'
    scarcity_experiment(out=str(out), tiny=True, runs_dir=str(tmp_path / 'runs'))
    T = json.loads(out.read_text())['tasks']['sick']
    assert 'error' not in T and (T['eval_split'], T['selection_split']) == ('test', 'validation')
    assert [r['policy'] for r in T['rows']] == ['dense', 'topk', 'topk', 'sparsemax'] and 'accuracy' in T['rows'][0]['metric']
