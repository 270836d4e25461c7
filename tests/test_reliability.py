"""Issue 7 (reliability) end to end on tiny CPU runs of the training notebook/module.

- determinism: same seed + config -> identical metrics (and another seed -> different ones);
- a finished run is never overwritten without `overwrite=True` (`fit` refuses; overwrite moves it aside);
- NaN loss stops the run naming the step and keeps the last good checkpoint;
- bad papermill parameters give one clear error, before any compute;
- a papermill run killed (SIGKILL) right after its first checkpoint, then run again with the same command, resumes
  from that checkpoint and finishes with exactly the metrics of an uninterrupted run.

The unit-level checks of `compecon_nb.runs` (atomic JSON, config mismatch, corrupt checkpoints, parameter checks)
live in nbs/02_runs.ipynb under the code they test.
"""
import json, os, shutil, signal, subprocess, sys, warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))  # works with and without `pip install -e .`

torch = pytest.importorskip('torch')
T = pytest.importorskip('compecon_nb.train')
from compecon_nb import runs as R

NB = ROOT/'nbs'/'04_train.ipynb'

# The tiny run every test here uses: a random 2-layer BERT on 32 SICK pairs, 3 epochs of 4 steps, with a price on compute
# (so the cost path and dropout's RNG are exercised), no early stopping (every epoch runs).
TINY = dict(task='sick', model='bert-tiny', lam=1e-3, penalty='both', epochs=3, max_steps=0, train_subset=32, eval_subset=16,
            batch_size=8, max_seq_len=32, lr=1e-3, patience=0, seed=0, device='cpu', engine='plain')

# Keys that measure time or place, not what was learned.
VOLATILE = {'env', 'finished', 'run_dir', 'out_dir', 'overwrite', 'latency_ms_b1', 'throughput_sps', 'train_time_s',
            'train_samples_per_s', 'epoch_time_s'}

def stable(m):
    "Metrics without timings, paths and environment, for exact comparison."
    if isinstance(m, dict): return {k: stable(v) for k, v in m.items() if k not in VOLATILE}
    if isinstance(m, list): return [stable(v) for v in m]
    return m

@pytest.fixture(scope='module', autouse=True)
def _one_thread():
    "One intra-op thread, as in the papermill kernels below (OMP_NUM_THREADS=1): same float reduction order."
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

@pytest.fixture(scope='module')
def runs_dir(tmp_path_factory): return tmp_path_factory.mktemp('runs')

@pytest.fixture(scope='module')
def reference(runs_dir):
    "An uninterrupted tiny run (metrics as returned and as written)."
    m = T.fit(**TINY, out_dir=str(runs_dir/'ref'))
    return m

def _env(extra_path=None, **kw):
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'HF_DATASETS_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1',
           'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg', 'PYTHONUNBUFFERED': '1', **kw}
    env['PYTHONPATH'] = os.pathsep.join([str(p) for p in (extra_path, ROOT) if p] + [env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    return env

def _papermill_cmd(out_nb, params):
    "The README's command: `papermill nbs/04_train.ipynb out.ipynb -p k v ...` (run from the repository root)."
    cmd = [sys.executable, '-m', 'papermill', str(NB), str(out_nb), '--no-progress-bar']
    for k, v in params.items(): cmd += ['-p', k, str(v)]
    return cmd

def _papermill(out_nb, params, env, timeout=300):
    return subprocess.run(_papermill_cmd(out_nb, params), cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)

BAD = {**TINY, 'lam': -1, 'penalty': 'heads'}

@pytest.fixture(scope='module', autouse=True)
def bad_params_run(request, tmp_path_factory):
    "Start the bad-parameters papermill run at once, in the background, so that it overlaps the in-process runs (2 cores)."
    if not any(i.name == 'test_papermill_bad_parameters_fail_fast' for i in request.session.items):
        yield None; return
    d = tmp_path_factory.mktemp('bad')
    with open(d/'log.txt', 'w') as log:
        proc = subprocess.Popen(_papermill_cmd(d/'bad.ipynb', {**BAD, 'out_dir': d/'run'}), cwd=ROOT, env=_env(),
                                stdout=log, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    yield d, proc
    if proc.poll() is None:  # papermill and its kernel: the whole process group this fixture started
        os.killpg(proc.pid, signal.SIGKILL); proc.wait()

# ---------------------------------------------------------------------------------------------------------------------
def test_determinism(reference, runs_dir):
    "Same seed and config -> the same metrics, to the last bit; another seed -> different ones (the check can fail)."
    again = T.fit(**TINY, out_dir=str(runs_dir/'again'))
    assert stable(again) == stable(reference)
    assert R.read_json(runs_dir/'again'/'metrics.json')['score'] == reference['score']
    other = T.fit(**{**TINY, 'seed': 1}, out_dir=str(runs_dir/'seed1'))
    assert stable(other) != stable(reference)
    assert other['c_comp_mean'] != reference['c_comp_mean']

def test_run_records_seed_and_versions(reference, runs_dir):
    m = R.read_json(runs_dir/'ref'/'metrics.json')
    cfg = R.read_json(runs_dir/'ref'/'config.json')
    assert cfg['seed'] == TINY['seed'] and m['seed'] == TINY['seed']
    for k in ('device', 'torch', 'transformers', 'datasets', 'python', 'git_commit', 'git_dirty'): assert k in m['env']
    assert R.is_finished(runs_dir/'ref')

def test_finished_run_is_not_overwritten(reference, runs_dir):
    "Re-running a finished run refuses (before any compute) unless overwrite=True, which moves the old run aside."
    rd = runs_dir/'ref'
    before = (rd/'metrics.json').read_bytes()
    with pytest.raises(R.RunExistsError, match=f'finished run at {rd}; pass overwrite=True to replace it'):
        T.fit(**TINY, out_dir=str(rd))
    assert (rd/'metrics.json').read_bytes() == before
    with pytest.raises(R.ConfigMismatchError, match='differing keys: lam'):
        T.fit(**{**TINY, 'lam': 1e-2}, out_dir=str(rd))
    # overwrite=True trains again; the old run is kept next to it, byte for byte
    shutil.copytree(rd, runs_dir/'ref-copy')
    new = T.fit(**{**TINY, 'overwrite': True}, out_dir=str(runs_dir/'ref-copy'))
    old = [p for p in runs_dir.iterdir() if p.name.startswith('ref-copy.old-')]
    assert len(old) == 1 and (old[0]/'metrics.json').read_bytes() == before
    assert stable(new) == stable(reference)

def test_nan_loss_stops_and_keeps_checkpoint(runs_dir, monkeypatch):
    "A loss that turns NaN in epoch 2 raises NonFiniteLossError naming the step; epoch 1's checkpoint still loads."
    orig, calls = T.task_loss, [0]
    def nan_late(logits, labels, kind):
        calls[0] += torch.is_grad_enabled()          # training steps only (λ's scale is measured without gradients)
        l = orig(logits, labels, kind)
        return l * float('nan') if calls[0] == 6 else l   # training step 6 = the 2nd step of epoch 2 (4 steps per epoch)
    monkeypatch.setattr(T, 'task_loss', nan_late)
    rd = runs_dir/'nan'
    with pytest.raises(R.NonFiniteLossError, match='loss is nan at step 6'):
        T.fit(**TINY, out_dir=str(rd))
    assert not R.is_finished(rd)
    ck = R.load_checkpoint(rd)
    assert ck['step'] == 4

def test_oom_gives_batch_size_hint(runs_dir, monkeypatch):
    "An out-of-memory error during training becomes an error that suggests a smaller batch size."
    def oom(*a, **kw): raise torch.cuda.OutOfMemoryError('CUDA out of memory. Tried to allocate 20.00 GiB')
    monkeypatch.setattr(T, 'task_loss', oom)
    with pytest.raises(Exception, match='batch_size') as e:
        T.fit(**TINY, out_dir=str(runs_dir/'oom'))
    assert 'batch_size 4' in str(e.value)

# ---------------------------------------------------------------------------------------------------------------------
NOTEBOOKS = sorted(p for p in (ROOT/'nbs').glob('[0-9][0-9]*.ipynb'))

@pytest.mark.parametrize('nb', NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_papermill_ready(nb):
    """`papermill nbs/NN.ipynb out.ipynb -p ...` needs a kernelspec and exactly one `parameters` cell: without the tag
    papermill injects the values *before* the defaults, which then silently override them (nbdev-clean keeps cell tags
    only with `allowed_cell_metadata_keys = ["tags"]` in [tool.nbdev])."""
    d = json.loads(nb.read_text())
    assert d['metadata'].get('kernelspec', {}).get('name'), f'{nb.name}: no kernelspec (papermill: "No kernel name found")'
    tagged = [c for c in d['cells'] if 'parameters' in c.get('metadata', {}).get('tags', [])]
    assert len(tagged) == 1, f'{nb.name}: {len(tagged)} cells tagged "parameters", need exactly 1'

SITECUSTOMIZE = '''
import os, signal
from pathlib import Path
_kill = os.environ.get('COMPECON_TEST_KILL_AFTER_CHECKPOINT')
if _kill:
    import compecon_nb.runs as _R
    _save = _R.save_checkpoint
    def save_checkpoint(run_dir, *a, **kw):
        out = _save(run_dir, *a, **kw)
        if Path(run_dir).resolve() == Path(_kill).resolve():   # the run's resume checkpoint (not other runs', not best/)
            os.kill(os.getpid(), signal.SIGKILL)
        return out
    _R.save_checkpoint = save_checkpoint
'''

def test_papermill_killed_then_restarted_matches_uninterrupted(reference, tmp_path):
    "SIGKILL the papermill kernel right after the first checkpoint; the same command again resumes and finishes identically."
    hook = tmp_path/'hook'; hook.mkdir()
    (hook/'sitecustomize.py').write_text(SITECUSTOMIZE)
    rd = tmp_path/'run'
    params = {**TINY, 'out_dir': rd}
    killed = _papermill(tmp_path/'killed.ipynb', params, _env(hook, COMPECON_TEST_KILL_AFTER_CHECKPOINT=str(rd)))
    log = killed.stdout + killed.stderr
    assert killed.returncode != 0, log[-3000:]
    assert not R.is_finished(rd) and not (rd/'metrics.json').exists(), 'the kill came too late'
    assert [p.name for p in R.list_checkpoints(rd)] == ['step-00000004.json']       # after epoch 1 of 3
    resumed = _papermill(tmp_path/'resumed.ipynb', params, _env())
    log = resumed.stdout + resumed.stderr
    assert resumed.returncode == 0, log[-3000:]
    assert R.is_finished(rd)
    nb_text = (tmp_path/'resumed.ipynb').read_text()
    assert f'resuming {rd} after epoch 1 (step 4)' in nb_text, 'the second run did not resume from the checkpoint'
    m = R.read_json(rd/'metrics.json')
    assert stable(m) == stable(json.loads(json.dumps(reference, default=R._json_default)))

def test_committed_results_parse():
    "Every JSON file under results/ parses (a half-written file is named), and load_runs reads each results folder."
    res = ROOT/'results'
    for p in sorted(res.rglob('*.json')) if res.is_dir() else []: R.read_json(p)
    for d in sorted({p.parent for p in res.rglob('*.json')}) if res.is_dir() else []:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            R.load_runs(d)

# Last, so that its background run (started by the fixture) overlaps the runs above.
def test_papermill_bad_parameters_fail_fast(bad_params_run):
    "`papermill ... -p lam -1 -p penalty heads`: one error naming both parameters and the accepted values, before compute."
    d, proc = bad_params_run
    rc = proc.wait(timeout=300)
    log, out_dir = (d/'log.txt').read_text(), d/'run'
    assert rc != 0, log[-3000:]
    assert 'lam=-1 is out of range' in log, log[-3000:]
    assert "penalty='heads' is not accepted" in log and "'attention'" in log, log[-3000:]
    assert not out_dir.exists()
    # before any compute: no cell before the failing one trained a model
    cells = json.loads((d/'bad.ipynb').read_text())['cells']
    failed = next(i for i, c in enumerate(cells) if any(o.get('output_type') == 'error' for o in c.get('outputs', [])))
    trained = [i for i, c in enumerate(cells[:failed]) if c['cell_type'] == 'code' and 'fit(' in ''.join(c['source'])
               and 'def fit(' not in ''.join(c['source'])]
    assert not trained, (f'cells {trained} of {NB.name} train before the parameters are checked (cell {failed}): validate them '
                         '(`cfg = make_config(task=task, lam=lam, ...)`) in the cell right after the parameters cell')
