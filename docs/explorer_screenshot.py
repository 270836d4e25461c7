"""Open the explorer in a real JupyterLab with headless Chromium, move its k slider, and save a screenshot.

    python docs/explorer_screenshot.py                       # -> figures/explorer.png
    python docs/explorer_screenshot.py --out screenshots/explorer.png --k 2

Starts `jupyter lab` on 127.0.0.1 (free port, no token, no browser) in a scratch folder, writes a one-cell notebook
that calls `compecon_nb.explorer.explorer` on this repo's runs/ and results/, runs it through JupyterLab's UI,
sets the k slider from the kernel side, waits for the redrawn figure, and checks that the Gini printed in the
status line changed. Needs Debian's chromium + chromium-driver and selenium (see .ci/install-browser.sh).
"""
from __future__ import annotations
import argparse, json, os, re, shutil, socket, subprocess, sys, tempfile, time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage']

def free_port() -> int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def demo_notebook(path: Path, k: int):
    src = (f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
           "from compecon_nb.explorer import explorer\n"
           f"ui = explorer([{str(ROOT / 'runs')!r}, {str(ROOT / 'results')!r}])\n"
           "ui")
    cell2 = (f"g0 = ui.state['gini']\nui.children[1].children[1].children[0].value = {k}   # the k slider\n"
             "print('GINI', round(g0, 4), '->', round(ui.state['gini'], 4))")
    nb = dict(nbformat=4, nbformat_minor=5, metadata=dict(kernelspec=dict(name='python3', display_name='Python 3', language='python')),
              cells=[dict(cell_type='code', id='c1', metadata={}, source=src, outputs=[], execution_count=None),
                     dict(cell_type='code', id='c2', metadata={}, source=cell2, outputs=[], execution_count=None)])
    path.write_text(json.dumps(nb))

def wait(cond, timeout, what):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            v = cond()
            if v: return v
        except AssertionError: raise
        except Exception: pass
        time.sleep(0.5)
    raise TimeoutError(f'timed out after {timeout}s waiting for {what}')

KERNEL_IDLE = ("return !!(window.jupyterapp && jupyterapp.shell.currentWidget && "
               "jupyterapp.shell.currentWidget.sessionContext && "
               "jupyterapp.shell.currentWidget.sessionContext.session && "
               "jupyterapp.shell.currentWidget.sessionContext.session.kernel && "
               "jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle')")

@contextmanager
def lab_session(root: Path, work: Path, notebook: str, env_extra: dict | None = None, failed_png: Path | None = None):
    """JupyterLab serving `root` (no token, free port on 127.0.0.1) and headless Chromium on `notebook`, its kernel idle:
    yields (driver, js). On an error keeps a screenshot at `failed_png` and prints the server log; always stops both and
    removes `work` (the scratch folder holding the server's config and log)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from urllib.request import urlopen
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / '.jupyter'), MPLBACKEND='module://matplotlib_inline.backend_inline',
               HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', **(env_extra or {}))
    lab = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
                            '--ServerApp.token=', '--ServerApp.password=', '--ServerApp.disable_check_xsrf=True',
                            '--LabApp.news_url=', '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate',
                            '--LabApp.expose_app_in_browser=True', '--allow-root', f'--ServerApp.root_dir={root}'],
                           cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=open(work / 'lab.log', 'w'))
    opts = webdriver.ChromeOptions()
    opts.binary_location = shutil.which('chromium') or shutil.which('chromium-browser')
    for f in FLAGS + ['--window-size=1500,1150']: opts.add_argument(f)
    driver = None
    try:
        wait(lambda: urlopen(f'http://127.0.0.1:{port}/api').status == 200, 60, 'jupyter lab to start')
        driver = webdriver.Chrome(service=Service(executable_path=shutil.which('chromedriver') or '/usr/bin/chromedriver'),
                                  options=opts)
        js = lambda code: driver.execute_script(code)
        driver.get(f'http://127.0.0.1:{port}/lab/tree/{notebook}')
        wait(lambda: js(KERNEL_IDLE), 120, 'the kernel')
        yield driver, js
    except Exception:
        if driver is not None and failed_png is not None:
            failed_png.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(failed_png))
        print((work / 'lab.log').read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if driver is not None: driver.quit()
        lab.terminate()
        try: lab.wait(20)
        except subprocess.TimeoutExpired: lab.kill()
        shutil.rmtree(work, ignore_errors=True)

def screenshot(out: Path, k: int = 2, timeout: int = 240) -> str:
    "Run a one-cell explorer notebook in JupyterLab, move k from the kernel side, check the Gini changed; screenshot to `out`."
    work = Path(tempfile.mkdtemp(prefix='explorer-lab-'))
    demo_notebook(work / 'explorer.ipynb', k)
    with lab_session(work, work, 'explorer.ipynb', failed_png=out.with_name(out.stem + '-failed.png')) as (driver, js):
        js("jupyterapp.commands.execute('application:set-mode', {mode: 'single-document'});"
           "jupyterapp.commands.execute('notebook:run-all-cells')")
        line = wait(lambda: re.search(r'GINI \S+ -> \S+', js(
            "return document.querySelectorAll('.jp-Notebook .jp-Cell')[1].innerText")), timeout, 'the notebook to run').group(0)
        g0, g1 = map(float, re.findall(r'-?\d+\.?\d*', line.split('GINI')[1]))
        if g1 == g0: raise AssertionError(f'moving k did not change the Gini: {line}')
        wait(lambda: js("const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[0];"
                        f"return c.innerText.includes('{k} keys per query') && "
                        "Array.from(c.querySelectorAll('.jp-OutputArea img')).some(i => i.complete && i.naturalWidth > 0)"),
             timeout, 'the redrawn explorer')
        # dismiss notifications (news prompt), put the widget at the top
        js("document.querySelectorAll('.jp-toast-button, .Toastify button').forEach(b => { if (/^(No|Dismiss)$/.test(b.innerText.trim()) || b.getAttribute('aria-label') === 'close') b.click(); })")
        js("jupyterapp.commands.execute('notebook:hide-all-cell-code'); jupyterapp.shell.collapseLeft()")
        time.sleep(2)
        js("document.querySelectorAll('.jp-Notebook .jp-Cell')[0].scrollIntoView()")
        time.sleep(1)
        out.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(out))
        return line

def run_explorer_notebook(out: Path | None = None, k: int = 2, timeout: int = 420) -> dict:
    """Open `nbs/07_explorer.ipynb` itself in JupyterLab (server root = the repository, autosave off, nothing written back),
    Run All, then move the explorer's top-k slider through its UI (type `k` into the slider's readout) and read the Gini
    the status line displays before and after. Returns dict(sliders, gini_before, gini_after, status); screenshot to `out`."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    work = Path(tempfile.mkdtemp(prefix='explorer-lab-'))
    settings = work / 'settings' / '@jupyterlab' / 'docmanager-extension'
    settings.mkdir(parents=True)
    (settings / 'plugin.jupyterlab-settings').write_text(json.dumps({'autosave': False}))
    env = dict(JUPYTERLAB_SETTINGS_DIR=str(work / 'settings'), JUPYTERLAB_WORKSPACES_DIR=str(work / 'ws'), HF_DATASETS_OFFLINE='1',
               OMP_NUM_THREADS='1')
    failed = out.with_name(out.stem + '-failed.png') if out is not None else None
    with lab_session(ROOT, work, 'nbs/07_explorer.ipynb', env, failed) as (driver, js):
        gini = lambda: re.search(r'head Gini\s*([0-9.]+)', js(
            "const s = Array.from(document.querySelectorAll('.jp-OutputArea .widget-html-content, .jp-OutputArea .widget-html'))"
            ".map(e => e.innerText).filter(t => t.includes('head Gini')); return s.length ? s[0] : ''"))
        js("jupyterapp.commands.execute('notebook:clear-all-cell-outputs'); jupyterapp.commands.execute('notebook:run-all-cells')")
        def gini_or_error():      # a cell that raised stops Run All: say which, at once, rather than time out
            err = js("for (const c of jupyterapp.shell.currentWidget.content.widgets) { const o = c.model.outputs;"   # the model: offscreen
                     " if (!o) continue; for (let i = 0; i < o.length; i++) { const j = o.get(i).toJSON();"     # cells are not in the DOM
                     " if (j.output_type === 'error') return j.ename + ': ' + j.evalue + '\\n' + (j.traceback || []).join('\\n'); } } return ''")
            err = re.sub(r'\x1b\[[0-9;]*m', '', err or '')
            if err: raise AssertionError(f'a cell of nbs/07_explorer.ipynb failed in JupyterLab:\n{err[-1500:]}')
            return gini()
        g0 = float(wait(gini_or_error, timeout, 'the explorer to appear (a status line with the head Gini)').group(1))
        n_sliders = js("return document.querySelectorAll('.jp-OutputArea .widget-slider, .jp-OutputArea .jupyter-widget-slider').length")
        wait(lambda: js("return jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"), timeout, 'Run All to finish')
        # the top-k slider: type k into its readout, as a reader can
        ro = next(e for e in driver.find_elements(By.CSS_SELECTOR, '.jp-OutputArea .widget-slider')
                  if 'top-k' in e.text).find_element(By.CSS_SELECTOR, '.widget-readout')
        driver.execute_script('arguments[0].scrollIntoView({block: "center"})', ro)
        if ro.text.strip() == str(k): k = 8 if k != 8 else 2          # a value other than the one shown
        ro.click(); ro.send_keys(Keys.CONTROL, 'a'); ro.send_keys(str(k)); ro.send_keys(Keys.ENTER)
        g1 = float(wait(lambda: (m := gini()) and float(m.group(1)) != g0 and m, 120, 'the Gini to change').group(1))
        if out is not None:
            js("document.querySelectorAll('.jp-toast-button, .Toastify button').forEach(b => { if (/^(No|Dismiss)$/.test(b.innerText.trim()) "
               "|| b.getAttribute('aria-label') === 'close') b.click(); }); jupyterapp.shell.collapseLeft()")
            driver.execute_script('arguments[0].closest(".jp-Cell").scrollIntoView()', ro)
            time.sleep(2)
            out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(out))
        return dict(sliders=n_sliders, gini_before=g0, gini_after=g1, k=k)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT / 'figures' / 'explorer.png'))
    ap.add_argument('--k', type=int, default=2, help='k the slider is moved to')
    a = ap.parse_args(argv)
    line = screenshot(Path(a.out), a.k)
    print(f'{line}\nsaved {a.out}')

if __name__ == '__main__': main()
