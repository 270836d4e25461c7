"""Browser test of the docs site: build it, serve it on 127.0.0.1, crawl it with headless Chromium.

    python -m pytest tests/test_site.py -v        # builds docs/_build/html first
    DOCS_REUSE=1 python -m pytest tests/test_site.py   # reuse an existing build

Checks every page reachable from index.html: it loads (HTTP 200), its <title> is the notebook's title, every
<img> decoded (naturalWidth > 0), every internal link and #anchor resolves, the page asked nothing of any host
but the local server and logged no JavaScript error. Screenshots go to screenshots/site/ (git-ignored).
Needs Debian's chromium + chromium-driver (.ci/install-browser.sh) and selenium; without them the test is skipped,
unless CI is set, where it fails.
"""
import http.server, json, os, re, shutil, sys, threading
from collections import deque
from functools import partial
from pathlib import Path
from urllib.parse import urldefrag, urlparse
from urllib.request import urlopen
from urllib.error import HTTPError
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / 'screenshots' / 'site'
IN_CI = os.environ.get('CI', '').lower() not in ('', '0', 'false', 'no')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage', '--window-size=1280,1600']

def chromium_paths():
    "(browser, driver) paths of Debian's chromium and chromium-driver, or Nones."
    browser = next((p for p in map(shutil.which, ('chromium', 'chromium-browser')) if p), None)
    driver = shutil.which('chromedriver') or ('/usr/bin/chromedriver' if Path('/usr/bin/chromedriver').exists() else None)
    return browser, driver

def need(ok: bool, why: str):
    "Skip with `why` when a tool is missing, except in CI, where a missing browser is a failure."
    if ok: return
    if IN_CI: pytest.fail(f'{why} (CI=true: the browser test must run; see .ci/install-browser.sh)')
    pytest.skip(why)

def make_driver():
    browser, driver = chromium_paths()
    need(browser and driver, 'chromium / chromedriver not installed: run `bash .ci/install-browser.sh`')
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError: need(False, 'selenium is not installed: `pip install selenium`')
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for f in FLAGS: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    # explicit driver path: Selenium Manager never runs, nothing is downloaded
    return webdriver.Chrome(service=Service(executable_path=driver), options=opts)

class Server:
    "http.server on 127.0.0.1 with a free port, in a thread; records requests that were not answered 200/304."
    def __init__(self, root: Path):
        self.failed = []
        srv = self
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a): pass
            def log_request(self, code='-', size='-'):
                if str(getattr(code, 'value', code)) not in ('200', '304'): srv.failed.append((self.path, code))
        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(Handler, directory=str(root)))
        self.base = f'http://127.0.0.1:{self.httpd.server_address[1]}/'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
    def close(self): self.httpd.shutdown(); self.httpd.server_close()

@pytest.fixture(scope='module')
def site():
    html = ROOT / 'docs' / '_build' / 'html'
    if not (os.environ.get('DOCS_REUSE') and (html / 'index.html').exists()):
        sys.path.insert(0, str(ROOT / 'docs'))
        import build
        html = build.build()
    srv = Server(html)
    yield html, srv
    srv.close()

def plain(md_title: str) -> str:
    "A markdown heading as Sphinx puts it in <title>: no backticks, emphasis or links."
    t = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', md_title)
    t = re.sub(r'`|\*{1,2}|(?<!\w)_{1,2}(?=\S)|(?<=\S)_{1,2}(?!\w)', '', t)
    return t.strip()

def expected_title(doc: str, titles: dict) -> str | None:
    if doc == 'index': return 'compecon-nb'
    return f'{plain(titles[doc])} - compecon-nb' if doc in titles else None

_JS_LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
_JS_BROKEN_IMGS = ("return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))"
                   ".map(i => i.currentSrc || i.src)")
_JS_RESOURCES = "return performance.getEntriesByType('resource').map(r => r.name)"
_JS_IDS = "return Array.from(document.querySelectorAll('[id],a[name]')).map(e => e.id || e.name)"

def test_site_in_browser(site):
    html, srv = site
    titles = json.loads((html / '_titles.json').read_text())
    driver = make_driver()
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems, seen, anchors, ids = [], set(), {}, {}
    queue = deque([srv.base + 'index.html'])
    try:
        while queue:
            url = queue.popleft()
            if url in seen: continue
            seen.add(url)
            path = urlparse(url).path
            if not path.endswith('.html'):          # a download or an asset: it must exist
                try: urlopen(url).close()
                except HTTPError as e: problems.append(f'{path}: HTTP {e.code}')
                continue
            driver.get(url)
            doc = path.lstrip('/')[:-len('.html')]
            if srv.failed and srv.failed[-1][0].split('?')[0] == path:
                problems.append(f'{path}: HTTP {srv.failed[-1][1]}'); continue
            title, want = driver.title, expected_title(doc, titles)
            if want is not None and title != want: problems.append(f'{doc}: title {title!r}, expected {want!r}')
            if not title.strip(): problems.append(f'{doc}: empty title')
            if 'compecon-nb' not in title: problems.append(f'{doc}: title {title!r} does not name the site')
            for src in driver.execute_script(_JS_BROKEN_IMGS): problems.append(f'{doc}: image did not load: {src}')
            for r in driver.execute_script(_JS_RESOURCES):
                if not r.startswith(srv.base) and not r.startswith('data:'):
                    problems.append(f'{doc}: requested a non-local resource {r}')
            for entry in driver.get_log('browser'):
                # MathJax 2 probes fonts with an `about:blank` @font-face; Chrome logs it, nothing is missing
                if entry.get('level') == 'SEVERE' and 'about:blank' not in entry.get('message', ''): problems.append(f"{doc}: console error {entry.get('message')}")
            ids[url] = set(driver.execute_script(_JS_IDS))
            if not doc.startswith('_modules/') and doc.count('/') <= 1:
                driver.save_screenshot(str(SHOTS / (doc.replace('/', '__') + '.png')))
            for href in driver.execute_script(_JS_LINKS):
                if not href.startswith(srv.base): continue   # external links are not this test's business
                target, frag = urldefrag(href)
                if target.endswith('/'): target += 'index.html'
                if frag: anchors.setdefault(target, set()).add((frag, doc))
                if target not in seen: queue.append(target)
    finally:
        driver.quit()
    for target, fr in anchors.items():
        for frag, src in sorted(fr):
            if target in ids and frag not in ids[target]:
                problems.append(f'{src}: link to {urlparse(target).path}#{frag}: no such anchor')
    for p, code in srv.failed: problems.append(f'server answered {code} for {p}')
    pages = {urlparse(u).path.lstrip('/')[:-5] for u in seen if u.endswith('.html')}
    missing = [d for d in titles if d not in pages]
    assert not missing, f'pages not reachable from index.html: {missing}'
    assert not problems, '\n'.join(sorted(set(problems)))
    assert len(pages) >= len(titles)

def test_parameter_table():
    "The `parameters` cell becomes a table of name, default and comment."
    sys.path.insert(0, str(ROOT / 'docs'))
    from build import parameter_rows, parameter_table
    rows = parameter_rows("task = 'sick'  # which task\n# learning rate\nlr = 2e-5\nks = [64, 32]\n")
    assert rows == [dict(name='task', default="'sick'", comment='which task'),
                    dict(name='lr', default='2e-5', comment='learning rate'),
                    dict(name='ks', default='[64, 32]', comment='')]
    assert '| `lr` | `2e-5` | learning rate |' in parameter_table(rows, 'x.ipynb')

def test_parameter_tables_on_pages(site):
    "Every notebook with a `parameters` cell shows its table on its page."
    html, _ = site
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        cells = json.loads(nb.read_text())['cells']
        if any('parameters' in c.get('metadata', {}).get('tags', []) for c in cells):
            page = (html / f'{nb.stem}.html').read_text()
            assert '<th class="head"><p>name</p></th>' in page and f'nbs/{nb.name}' in page, nb.name

def test_explorer_in_jupyterlab():
    "The explorer runs in a real JupyterLab: its figure renders and moving the k slider changes the Gini it shows."
    browser, driver = chromium_paths()
    need(browser and driver, 'chromium / chromedriver not installed: run `bash .ci/install-browser.sh`')
    try: import selenium  # noqa: F401
    except ImportError: need(False, 'selenium is not installed: `pip install selenium`')
    sys.path.insert(0, str(ROOT / 'docs'))
    from explorer_screenshot import screenshot
    line = screenshot(ROOT / 'screenshots' / 'explorer.png', k=2)
    g0, g1 = map(float, re.findall(r'-?\d+\.?\d*', line.split('GINI')[1]))
    assert g1 > g0, line

def test_docstrings_for_autodoc():
    "nbdev's markdown docstrings and parameter comments become valid rst for the API pages."
    sys.path.insert(0, str(ROOT / 'docs'))
    from _ext.nbdev_docments import md_code_to_rst, add_param_comments
    assert md_code_to_rst('`None`s when `repo` is |x|, f(*args)') == r'``None``\ s when ``repo`` is \|x\|, f(\*args)'
    assert md_code_to_rst('*emphasis* stays') == '*emphasis* stays'
    def f(x: int,      # the x
          y=2):        # the y
        "Add `x` and `y`."
        return x + y
    lines = ['Add `x` and `y`.']
    add_param_comments(None, 'function', 'f', f, {}, lines)
    assert lines == ['Add ``x`` and ``y``.', '', ':param x: the x', ':param y: the y'], lines

def test_nbdev_cells_on_the_site():
    "nbdev directives: `#| hide` and `#| default_exp` cells vanish, `#| export` lines go, exports link to the API."
    sys.path.insert(0, str(ROOT / 'docs'))
    from build import process_notebook
    code = lambda src, **md: dict(cell_type='code', metadata=md, source=src, outputs=[], execution_count=None)
    nb = dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[
        code('#| default_exp framework'), code('#| export\nimport torch'), code('#| hide\nfrom fastcore.test import *'),
        dict(cell_type='markdown', metadata={}, source='# Title\n\n> summary\n\n![f](../figures/none.png)'),
        code('#| export\ndef gini(w):\n    "Eq 4"\n    return w'), code("k = 4  # budget", tags=['parameters']),
        code('#| echo: false\nprint(1)')])
    out, module = process_notebook(nb, 'x.ipynb', ROOT / 'nbs', ROOT / 'docs' / '_build' / 'src')
    srcs = [c['source'] for c in out['cells']]
    assert module == 'framework'
    assert srcs[0].startswith('# Title') and not any('#|' in s for s in srcs), srcs
    assert not any('fastcore.test' in s or 'default_exp' in s for s in srcs)
    assert any('{py:obj}`gini <compecon_nb.framework.gini>`' in s for s in srcs)
    assert any('| `k` | `4` | budget |' in s for s in srcs)
    tags = {c['source']: c['metadata'].get('tags', []) for c in out['cells'] if c['cell_type'] == 'code'}
    assert 'remove-input' in tags['print(1)'] and 'hide-input' in tags['import torch'] and 'hide-input' in tags['k = 4  # budget']
