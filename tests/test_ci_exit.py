"`.ci/run` must exit non-zero when the notebook tests fail (under `set -e`, `a && b` does not stop the script when `a` fails)."
import subprocess
from pathlib import Path

RUN = Path(__file__).resolve().parents[1] / '.ci' / 'run'

def test_ci_run_fails_when_notebook_tests_fail(tmp_path):
    src = RUN.read_text()
    _, found, tail = src.partition('# README: test')
    assert found, '.ci/run has no "# README: test" section'
    tail = tail.split('\n', 1)[1]                       # the commands below that comment line, not the rest of its text
    stub = tmp_path / 'bin'; stub.mkdir()
    (stub / 'nbdev-test').write_text('#!/bin/sh\nexit 1\n'); (stub / 'pytest').write_text('#!/bin/sh\nexit 0\n')
    for f in stub.iterdir(): f.chmod(0o755)
    script = 'set -euo pipefail\nstart=0\n' + tail
    r = subprocess.run(['bash', '-c', script], env={'PATH': f'{stub}:/usr/bin:/bin'}, capture_output=True, text=True)
    assert r.returncode != 0, f'.ci/run exits {r.returncode} although nbdev-test failed:\n{r.stdout}'
