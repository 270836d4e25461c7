"The exported library must be what the notebooks say: nbdev-export leaves compecon_nb/ unchanged."
import shutil, subprocess, filecmp
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_export_in_sync(tmp_path):
    copy = tmp_path / 'repo'
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns('.git', '.gpu', 'runs', '_docs', '_proc', 'docs', '*.egg-info', '__pycache__'))
    subprocess.run(['nbdev-export'], cwd=copy, check=True)
    lib, new = ROOT / 'compecon_nb', copy / 'compecon_nb'
    changed = [p.name for p in lib.glob('*.py') if not filecmp.cmp(p, new / p.name, shallow=False)]
    added = sorted({p.name for p in new.glob('*.py')} - {p.name for p in lib.glob('*.py')})
    assert not changed and not added, f"run nbdev-export and commit: changed {changed}, missing {added}"
