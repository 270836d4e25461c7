"The one-command reproduction on tiny settings (CPU, bert-tiny): every tiny part runs, writes stamped results, and a second call does nothing."
import json, os
os.environ.setdefault('OMP_NUM_THREADS', '1')
import pytest
from compecon_nb.reproduce import PARTS, reproduce, todo

@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp('reproduce')
    first = reproduce(PARTS, d / 'results', d / 'runs', tiny=True, jobs=2, budget_s=1200, log=print)
    return d, first

def test_every_tiny_part_runs(tiny_run):
    d, first = tiny_run
    tiny = [p for p in PARTS if p.tiny is not None]
    assert {n: r['status'] for n, r in first['parts'].items()} == {p.name: 'done' for p in tiny}
    for p in tiny:
        for o in p.outputs:
            f = json.loads((d / 'results' / o).read_text())
            assert f['code']['modules'] and f['env']                            # stamped by runs.write_results
    rep = json.loads((d / 'results' / 'reproduce.json').read_text())
    assert rep['complete'] and len(rep['calls']) == 1 and rep['device_s'] > 0

def test_second_call_does_nothing(tiny_run):
    d, _ = tiny_run
    assert todo(PARTS, d / 'results', tiny=True) == []
    again = reproduce(PARTS, d / 'results', d / 'runs', tiny=True, jobs=2, budget_s=60, log=print)
    assert all(r['status'] == 'current' for r in again['parts'].values()) and again['wall_s'] < 30
    assert len(json.loads((d / 'results' / 'reproduce.json').read_text())['calls']) == 1

def test_tiny_results_are_not_the_reproduction(tiny_run):
    "Tiny files say they are tiny: a full reproduction into the same folder runs every part again instead of keeping them."
    d, _ = tiny_run
    assert [p.name for p in todo(PARTS, d / 'results')] == [p.name for p in PARTS]

def test_market_served_from_saved_models(tiny_run):
    d, _ = tiny_run
    m = json.loads((d / 'results' / 'market.json').read_text())
    assert m['serve']['status'] == 'done'
    assert {r['model'] for r in m['serve']['rows']} >= {'dense', 'market-0.5', 'market-0.25'}
    assert {r['method'] for r in m['rows']} == {'market', 'posthoc', 'layerdrop', 'lam'}

def test_pruning_and_scarcity_tiny(tiny_run):
    d, _ = tiny_run
    f = json.loads((d / 'results' / 'pruning.json').read_text())
    assert f['errors'] == [] and sorted({p['family'] for p in f['points']}) == ['both', 'dense', 'heads', 'neurons']
    assert any(p['recover_steps'] for p in f['points'])                        # a recovered model (train.fit(init=pruned))
    assert f['heatmap']['lam_high'] is not None and f['runs'][0]['eval_split'] == 'test'
    t3 = {(r['seed'], r['lam_paper']): r['metrics'] for r in json.loads((d / 'results' / 'table3.json').read_text())['runs']}
    assert f['runs'][0]['fit_score'] == t3[(0, 0.0)]['score']                  # the pruned dense model is Table 3's λ = 0 run
    assert f['heatmap']['lam_high_score'] == t3[(0, f['heatmap']['lam_high_paper'])]['score']   # Fig 6's high λ: Table 3's run
    T = json.loads((d / 'results' / 'scarcity.json').read_text())['tasks']['sick']
    assert 'error' not in T and (T['eval_split'], T['selection_split']) == ('test', 'validation')
    assert [r['policy'] for r in T['rows']] == ['dense', 'topk', 'topk', 'sparsemax'] and 'accuracy' in T['rows'][0]['metric']
