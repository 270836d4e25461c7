"""The λ × task grid (workflow/Snakefile) runs on CPU with tiny settings: dry run, a real run where one point fails alone,
re-runs that train nothing, the papermill runner. Run: pytest tests/test_grid.py (about 1-2 min on 2 cores).
COMPECON_SLOW=1 adds one point through the real training notebook (nbs/04_train.ipynb, a few minutes)."""
import json, os, subprocess, sys
from pathlib import Path
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT/'workflow'/'Snakefile'
TINY = dict(epochs=1, max_steps=2, train_subset=16, eval_subset=16, max_seq_len=32, batch_size=8, lr=1e-3, device='cpu',
            engine='plain', patience=0)


def snakemake(tmp, config, *args):
    "Run the grid workflow in `tmp` (its .snakemake/ state there) with `config` merged over workflow/config.yaml."
    cfg = tmp/'grid.yaml'
    cfg.write_text(yaml.safe_dump(config))
    env = dict(os.environ, OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1', PYTHONPATH=str(ROOT))
    cmd = [sys.executable, '-m', 'snakemake', '-s', str(SNAKEFILE), '--directory', str(tmp), '--configfile', str(cfg), *args]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return r.returncode, r.stdout + r.stderr


def grid(tmp, name, lams, **kw):
    return dict(name=name, tasks=['sick'], lams=lams, seeds=[0], models=['bert-tiny'], params=TINY, per_task={},
                runs_dir=str(tmp/'runs'), results_dir=str(tmp/'results'), gpus=0, gpu_per_run=0, threads=1, **kw)


def run_dir(tmp, name, lam): return tmp/'runs'/'sick'/'bert-tiny'/f'grid-{name}-lam{lam!r}-s0'


def test_dry_run_of_the_paper_grid(tmp_path):
    "The committed configuration is valid: 15 training jobs (CoLA and STS-B × 6 λ, MNLI × 3 λ), 3 λ scales, the collect job."
    rc, out = snakemake(tmp_path, {}, '-n')
    assert rc == 0, out
    jobs = dict(l.split() for l in out.splitlines() if l.split()[:1] in (['train'], ['collect'], ['lam_scale']) and len(l.split()) == 2)
    assert jobs == {'train': '15', 'lam_scale': '3', 'collect': '1'}, out


def test_grid_on_cpu_failure_isolated_and_reruns_skip(tmp_path):
    # 1. three points, the third with an invalid λ: it fails alone, the others finish (--keep-going in the default profile).
    #    λ in the paper's units: trained at λ · C_sum / C_mean, the ratio measured once for the task (rule lam_scale)
    rc, out = snakemake(tmp_path, grid(tmp_path, 'cpu', [0.0, 0.01, -1.0], runner='python', lam_units='paper'), '--cores', '2')
    assert rc != 0, out
    good = [run_dir(tmp_path, 'cpu', l) for l in (0.0, 0.01)]
    assert all((d/'DONE').is_file() and (d/'metrics.json').is_file() for d in good), out
    assert not (run_dir(tmp_path, 'cpu', -1.0)/'DONE').exists()
    log = (tmp_path/'runs'/'grid-logs'/'cpu'/'sick'/'bert-tiny'/'lam-1.0-s0.log').read_text()
    assert 'lam=-' in log and 'out of range' in log, log                     # the failed point says why
    assert not (tmp_path/'results'/'grid_cpu.json').exists()                 # collect waits for every point
    stamps = [(d/'DONE').stat().st_mtime_ns for d in good]
    ratio = json.loads((tmp_path/'runs'/'sick'/'bert-tiny'/'grid-cpu-lamscale.json').read_text())['ratio']
    assert ratio > 100
    assert json.loads((good[1]/'config.json').read_text())['lam'] == pytest.approx(0.01 * ratio)

    # 2. the same grid without the bad point: nothing is trained again, only the results are collected
    rc, out = snakemake(tmp_path, grid(tmp_path, 'cpu', [0.0, 0.01], runner='python', lam_units='paper'), '--cores', '2')
    assert rc == 0, out
    assert 'rule train' not in out and 'rule collect' in out, out
    assert [(d/'DONE').stat().st_mtime_ns for d in good] == stamps
    res = json.loads((tmp_path/'results'/'grid_cpu.json').read_text())
    assert (res['n_points'], res['n_finished'], res['missing'], res['config_mismatch']) == (2, 2, [], [])
    assert sorted(r['lam'] for r in res['runs']) == [0.0, 0.01]                # the paper's λ, and the λ trained with:
    assert sorted(r['lam_used'] for r in res['runs']) == pytest.approx([0.0, 0.01 * ratio])
    assert all(r['metrics']['task'] == 'sick' and r['metrics']['model'] == 'bert-tiny' for r in res['runs'])

    # 3. again: nothing to do at all
    rc, out = snakemake(tmp_path, grid(tmp_path, 'cpu', [0.0, 0.01], runner='python', lam_units='paper'), '--cores', '2')
    assert rc == 0 and 'Nothing to be done' in out, out


STUB = '''# %% tags=["parameters"]
task = 'sick'
lam = 0.0
seed = 0
out_dir = None

# %%
from compecon_nb import runs as R
if lam < 0: raise ValueError(f'lam={lam} is out of range')
R.start_run(out_dir, dict(task=task, lam=lam, seed=seed))
R.finish_run(out_dir, dict(task=task, lam=lam, score=1.0 - lam), env={})
'''


def test_papermill_runner(tmp_path):
    "The default runner: papermill injects the point's parameters; executed notebooks are kept (in the run dir when done)."
    import jupytext
    nb = jupytext.reads(STUB, fmt='py:percent')
    nb.metadata['kernelspec'] = dict(display_name='Python 3', language='python', name='python3')
    jupytext.write(nb, tmp_path/'stub.ipynb')
    cfg = grid(tmp_path, 'pm', [0.0, -1.0], runner='papermill', notebook=str(tmp_path/'stub.ipynb'), lam_units='mean')
    cfg['params'] = {}
    rc, out = snakemake(tmp_path, cfg, '--cores', '2')
    assert rc != 0, out
    ok = run_dir(tmp_path, 'pm', 0.0)
    assert (ok/'DONE').is_file() and (ok/'executed.ipynb').is_file(), out
    assert 'lam = 0.0' in (ok/'executed.ipynb').read_text()                  # papermill's injected parameters
    failed = tmp_path/'runs'/'grid-logs'/'pm'/'sick'/'bert-tiny'/'lam-1.0-s0.ipynb'
    assert failed.is_file() and 'out of range' in failed.read_text()          # the failed notebook is kept with its error


@pytest.mark.skipif(not os.environ.get('COMPECON_SLOW'), reason='set COMPECON_SLOW=1: runs nbs/04_train.ipynb (minutes on CPU)')
def test_real_training_notebook(tmp_path):
    rc, out = snakemake(tmp_path, grid(tmp_path, 'nb', [0.01], runner='papermill', lam_units='mean'), '--cores', '2')
    assert rc == 0, out
    d = run_dir(tmp_path, 'nb', 0.01)
    assert (d/'DONE').is_file() and (d/'executed.ipynb').is_file()
    res = json.loads((tmp_path/'results'/'grid_nb.json').read_text())
    assert res['n_finished'] == 1 and res['runs'][0]['metrics']['lam'] == 0.01


def test_table3_cli_tiny_on_cpu(tmp_path):
    """`compecon-table3 --tiny`: train.fit_grid's fast engine (batched λ group, uncompiled on CPU), every run measured like fit;
    λ in paper units mapped by the measured C_sum/C_mean; a second call reads the finished runs back."""
    out = tmp_path/'t3.json'
    cmd = ['compecon-table3', '--out', str(out), '--tiny', '--tasks', 'stsb', '--seeds', '0', '--lams', '0,1e-4',
           '--runs-dir', str(tmp_path/'runs')]
    env = dict(os.environ, OMP_NUM_THREADS='1', HF_HUB_OFFLINE='1', HF_DATASETS_OFFLINE='1')
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    d = json.loads(out.read_text())
    assert d['code']['code_commit'] and d['wall_s'] > 0                  # stamped by the one writer, the grid timed as one number
    assert [x['lam_paper'] for x in d['runs']] == [0.0, 1e-4]
    m = d['runs'][1]['metrics']
    ratio = m['lam_mean'] / m['lam_paper']
    assert ratio > 10                                                   # C_sum ≫ C_mean
    assert abs(d['runs'][1]['lam'] - 1e-4 * ratio) < 1e-9 * ratio
    for x in d['runs']:
        m = x['metrics']
        assert m['engine'] == 'fast' and m['gflops_dense'] > 0 and 0 <= m['ffn_sparsity_le0'] <= 1
    mtimes = {p: p.stat().st_mtime for p in (tmp_path/'runs').rglob('metrics.json')}
    r2 = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert {p: p.stat().st_mtime for p in (tmp_path/'runs').rglob('metrics.json')} == mtimes   # finished runs not retrained
