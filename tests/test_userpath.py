"""The user's path around the run machinery: the committed headline run is listed, scratch outputs stay out of git,
and the README says what CI runs. (The unit checks of `runs` and `data` sit under their code in nbs/02_runs.ipynb and
nbs/01_data.ipynb.)"""
import re, subprocess, sys, warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
from compecon_nb import runs as R

MAIN = ROOT/'results'/'main_run'

def test_main_run_is_listed_from_its_folder():
    "results/main_run is a finished run: load_runs lists it, with its path and run_dir the folder it was found in."
    assert R.is_finished(MAIN)
    with warnings.catch_warnings():
        warnings.simplefilter('error')      # no 'skipping unfinished run' and no skipped file
        rows = [r for r in R.load_runs(MAIN.parent) if r['run'] == 'main_run']
    assert len(rows) == 1
    assert rows[0]['path'] == rows[0]['run_dir'] == str(MAIN)
    assert rows[0]['task'] == 'mnli' and rows[0]['task_used'] == 'sick' and rows[0]['lam_units'] == 'paper'
    m = R.read_metrics(MAIN)
    assert m['run_dir'] == str(MAIN)                      # the folder it was found in, not where it ran
    # the main job is Table 3's λ = 1e-4, seed 0 on SICK: the plain loop here and the fast engine of table3.json agree
    t3 = R.read_json(ROOT/'results'/'table3.json')
    same = [r for r in t3['runs'] if r['task'] == 'sick' and r['lam_paper'] == m['lam_paper'] and r['seed'] == m['seed']]
    assert len(same) == 1 and abs(same[0]['metrics']['score'] - m['score']) < 0.01

def test_done_marker_is_the_finish_time():
    "The DONE marker holds what finish_run writes: the finish time recorded in metrics.json."
    assert (MAIN/'DONE').read_text() == R.read_json(MAIN/'metrics.json')['finished'] + '\n'

@pytest.mark.parametrize('name', ['out.ipynb', 'out-stsb.ipynb', 'output.ipynb'])
def test_scratch_notebooks_are_ignored(name):
    "The README's `papermill ... out.ipynb` writes at the repository root; git ignores it there (not a tracked notebook)."
    if not (ROOT/'.git').exists(): pytest.skip('not a git checkout')
    r = subprocess.run(['git', '-C', str(ROOT), 'check-ignore', '-q', name], capture_output=True)
    assert r.returncode == 0, f'{name} at the repository root is not git-ignored'
    r = subprocess.run(['git', '-C', str(ROOT), 'check-ignore', '-q', 'nbs/04_train.ipynb'], capture_output=True)
    assert r.returncode == 1

def _section(md, title):
    m = re.search(rf'^## {re.escape(title)}.*?$(.*?)(?=^## )', md, re.M | re.S)
    assert m, f'README has no section {title!r}'
    return m.group(1)

def test_readme_test_section_says_what_ci_adds():
    "Every environment variable .ci/run sets, and its browser install, is named in the README's Test section."
    ci, test = (ROOT/'.ci'/'run').read_text(), _section((ROOT/'README.md').read_text(), 'Test')
    ci_cmds = [l.strip() for l in ci.partition('# README: test')[2].split('\n', 1)[1].splitlines()
               if l.strip() and not l.lstrip().startswith(('#', 'echo'))]
    assert ci_cmds == ['nbdev-test', 'pytest -q tests'] and 'nbdev-test && pytest tests' in test
    names = set(re.findall(r'\b([A-Z][A-Z_]+)=', ''.join(l for l in ci.splitlines(True) if l.startswith('export'))))
    assert names >= {'HF_HUB_OFFLINE', 'OMP_NUM_THREADS'}
    missing = sorted(n for n in names if n not in test)
    assert not missing, f'.ci/run sets {missing}, which the README Test section does not mention'
    if 'install-browser.sh' in ci: assert 'install-browser.sh' in test
    assert 'exactly' not in test

def test_readme_ci_environment_reaches_both_commands():
    "The README's way to run what CI runs sets the environment for pytest too: `A=1 x && y` would give it to x alone."
    test = _section((ROOT/'README.md').read_text(), 'Test')
    for line in test.splitlines():
        if 'nbdev-test' in line and 'pytest' in line:
            assert not re.match(r'\s*[A-Z_]+=\S+\s', line), f'README: {line.strip()!r} sets its variables for nbdev-test only'
    assert re.search(r'^export HF_HUB_OFFLINE=1 .*OMP_NUM_THREADS=1', test, re.M)

def test_readme_jupyter_lab_as_root():
    "Wherever the README tells the user to start JupyterLab, it says that root needs --allow-root."
    md = (ROOT/'README.md').read_text()
    for m in re.finditer(r'`jupyter lab[^`]*`', md):
        around = md[max(0, m.start() - 300): m.end() + 300]
        assert '--allow-root' in around, f'README: {m.group(0)} without a word on --allow-root'
