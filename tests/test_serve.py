"The serving CLI end to end on CPU (`compecon-serve --tiny`): the results file, its rows, latency table and verdicts."
import json, os, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

def test_serve_cli_tiny(tmp_path):
    from compecon_nb.serve import serve_cli, serving_verdicts, layer_ms, RUNTIMES
    out = tmp_path/'serving.json'
    t = time.time()
    serve_cli(tiny=True, out=str(out))
    assert time.time() - t < 60, 'the --tiny run must stay under a minute on CPU'
    res = json.loads(out.read_text())
    assert {'rows', 'latency_table', 'roofline', 'env', 'code', 'checks', 'models'} <= set(res)
    assert res['tiny'] and res['task'] == 'sick'
    names = set(res['models'])
    assert names == {'dense', 'pruned_50', 'layers_1'}
    assert len(res['rows']) == len(names) * 2 * 3                         # models × (hf_eager, graphs) × batches (1, 8, 32)
    for r in res['rows']:
        assert r['runtime'] in RUNTIMES and r['ms'] > 0 and r['samples_per_s'] > 0
        if r['model'] == 'dense':
            assert r['speedup'] == 1.0 and r['metric_drop'] == 0.0 and abs(r['flops_kept'] - 1) < 1e-12
        else: assert r['flops_kept'] < 0.7
    assert res['checks']['graphs_vs_hf_eager_max_abs'] < 1e-5 and res['checks']['argmax_agreement'] == 1.0
    lt = res['latency_table']
    assert list(lt['shapes']) == ['b32_s32', 'b1_s32']
    assert layer_ms(lt, 0, 0) == lt['shapes']['b32_s32']['base_ms']
    assert serving_verdicts(res)[0].startswith('*A `--tiny`')

def test_serve_console_script_parses(tmp_path):
    "The console script's spelling parses its flags (a script run of `serve_cli` reads sys.argv)."
    script = tmp_path/'compecon-serve'
    script.write_text('import sys\nfrom compecon_nb.serve import serve_cli\nsys.exit(serve_cli())\n')
    r = subprocess.run([sys.executable, str(script), '--help'], capture_output=True, text=True, timeout=120,
                       env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr
    for flag in ('--task', '--out', '--dense-run', '--tiny', '--finetune-epochs', '--no-table'): assert flag in r.stdout
