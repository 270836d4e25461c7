"""Browser test of the docs site: build it, serve it on 127.0.0.1, crawl it with headless Chromium.

    python -m pytest tests/test_site.py -v        # builds docs/_build/html first
    DOCS_REUSE=1 python -m pytest tests/test_site.py   # reuse an existing build

Checks every page reachable from index.html: it loads (HTTP 200), its <title> is the notebook's title, every
<img> decoded (naturalWidth > 0), every internal link and #anchor resolves, the page asked nothing of any host
but the local server and logged no JavaScript error; and what a reader sees: at least as many images as stored figure
outputs, none broken, large ones zoomable, no section announcing figures without one, nothing wider than the content
column, no raw TeX or prose typeset as math, no placeholder eaten as HTML, no internal wording, no test-fixture output.
Screenshots go to screenshots/site/ (git-ignored); with COMPECON_UPDATE_SCREENSHOTS=1, those of the home page, 03, 05 and the
explorer go to docs/screenshots/ (committed).
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
# the committed ones (home, 03, 05, the explorer) are rewritten only when asked: a test run leaves the tree as it was
DOC_SHOTS = ROOT / 'docs' / 'screenshots' if os.environ.get('COMPECON_UPDATE_SCREENSHOTS') else SHOTS
IN_CI = os.environ.get('CI', '').lower() not in ('', '0', 'false', 'no')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage', '--window-size=1600,1200']

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

def full_page_shot(driver, path: Path, width: int = 1400, max_h: int = 6000):
    "A screenshot of the top of the page (up to `max_h` px), saved small (PNG, reduced palette when Pillow is there)."
    path.parent.mkdir(parents=True, exist_ok=True)
    h = min(max_h, driver.execute_script('return document.scrollingElement.scrollHeight'))
    size = driver.get_window_size()
    driver.set_window_size(width, h)
    try: driver.save_screenshot(str(path))
    finally: driver.set_window_size(size['width'], size['height'])
    try:
        from PIL import Image
        im = Image.open(path).convert('RGB')
        im = im.resize((im.width // 2, im.height // 2))
        im.quantize(colors=128).save(path, optimize=True)
    except ImportError: pass

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


# ---------------------------------------------------------------- what a reader sees on each page
_JS_WAIT_MATH = """const done = arguments[arguments.length - 1];
if (window.MathJax && MathJax.Hub && MathJax.Hub.Queue) MathJax.Hub.Queue(() => done(true)); else done(false);"""

_JS_READER = r"""
const art = document.querySelector('article[role=main]') || document.querySelector('[role=main]');
if (!art) return {missing: true};
const ar = art.getBoundingClientRect();
// the content column: furo's .content box (headings and table wrappers reach a few px into its padding), never past
// the left edge of the contents panel when it is shown
const col = (document.querySelector('.content') || art).getBoundingClientRect();
const toc = document.querySelector('.toc-drawer');
const tl = toc && toc.getBoundingClientRect().width > 0 && toc.getBoundingClientRect().left >= ar.left ? toc.getBoundingClientRect().left : Infinity;
const right = Math.min(col.right, tl) + 1;
const scroller = (el) => {            // the nearest ancestor (inside the article) that scrolls sideways and itself fits
  for (let p = el.parentElement; p && p !== art; p = p.parentElement) {
    const ox = getComputedStyle(p).overflowX;
    if ((ox === 'auto' || ox === 'scroll' || ox === 'hidden') && p.getBoundingClientRect().right <= right) return p;
  }
  return null;
};
const wide = [];
for (const el of art.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= right) continue;
  if (scroller(el)) continue;
  if (el.closest('.MathJax_Preview, script, style')) continue;
  wide.push(`${el.tagName.toLowerCase()}.${(el.className && el.className.baseVal === undefined ? el.className : '').toString().split(' ')[0]} ` +
            `${Math.round(r.width)}px to ${Math.round(r.right)} > ${Math.round(right)}: ${(el.innerText || '').slice(0, 60)}`);
  if (wide.length > 5) break;
}
// rendered prose: the article without code, math and the source of MathJax
const clone = art.cloneNode(true);
clone.querySelectorAll('pre, code, kbd, script, style, .highlight, .MathJax, .MathJax_Display, .MathJax_Preview, ' +
                       'mjx-container, .math, .headerlink, .img-lightbox, .cell_input').forEach(e => e.remove());
const text = clone.innerText;
const imgs = Array.from(art.querySelectorAll('img'));
// a section whose heading announces figures ("Figures 2 and 3", "Fig 4") must show at least one
const empty_fig = Array.from(art.querySelectorAll('section > h2, section > h3')).filter(h => /^(Figures?|Fig\.?)\s/.test(h.innerText.trim())
  && !h.parentElement.querySelector('img')).map(h => h.innerText.trim());
// TeX sources MathJax typeset: prose inside inline math means a $ pair shifted (a $$ block inside a paragraph)
const tex = Array.from(art.querySelectorAll('script[type^="math/tex"]')).map(e => e.textContent);
return {
  empty_fig: empty_fig, tex: tex,
  page_scroll: document.scrollingElement.scrollWidth - window.innerWidth,
  wide: wide,
  text: text,
  n_img: imgs.length,
  zero: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src),
  small_unzoomable: imgs.filter(i => i.naturalWidth > i.clientWidth * 1.5 && !i.classList.contains('zoomable') &&
                                   !i.closest('a')).map(i => i.currentSrc || i.src),
};
"""

RAW_MATH = [('$…$', re.compile(r'\$[^$\s][^$\n]{0,80}\$')), (r'\frac', re.compile(r'\\frac')), (r'\ge', re.compile(r'\\ge\b')),
            (r'\(', re.compile(r'\\\('))]
# a placeholder the page swallowed as HTML: "None: runs///", "None: /results"
SWALLOWED = re.compile(r'None:\s*(?:\S*//|/\w)')
INTERNAL = re.compile(r'\b(?:sessions?|issues?|lent)\b', re.I)
FIXTURE = ('bert-tiny, unknown device', 'unknown device')

def stored_figures(src_nb: Path) -> int:
    "Figures a processed notebook (docs/_build/src) will show: image outputs of kept cells plus markdown images."
    nb, n = json.loads(src_nb.read_text()), 0
    for c in nb['cells']:
        tags = c.get('metadata', {}).get('tags', [])
        if c['cell_type'] == 'markdown':
            n += len(re.findall(r'!\[[^\]]*\]\([^)]+\)|<img\b', c['source'] if isinstance(c['source'], str) else ''.join(c['source'])))
        elif c['cell_type'] == 'code' and 'remove-output' not in tags and 'remove-cell' not in tags:
            n += sum(1 for o in c.get('outputs', []) if any(k.startswith('image/') for k in o.get('data', {})))
    return n

def reader_problems(doc: str, got: dict, want_imgs: int | None) -> list:
    "What a reader would trip over on one page (see _JS_READER): missing or broken figures, overflow, raw TeX, placeholders, internal wording."
    if got.get('missing'): return [f'{doc}: no article element']
    out = []
    if want_imgs is not None and got['n_img'] < want_imgs:
        out.append(f"{doc}: {got['n_img']} images on the page, {want_imgs} stored figure outputs")
    out += [f'{doc}: image with zero natural width: {s}' for s in got['zero']]
    out += [f'{doc}: image shown at a fraction of its size cannot be opened larger: {s}' for s in got['small_unzoomable']]
    out += [f'{doc}: section {h!r} announces figures and shows none' for h in got['empty_fig']]
    for t in got['tex']:
        bare = re.sub(r'\\(?:text|mathrm|operatorname|textrm|mbox)\{[^}]*\}', '', t)
        if re.search(r'(?:\b[A-Za-z]{2,}\b[ ,.;:()]+){5}', bare):
            out.append(f'{doc}: prose typeset as math (a $ pair shifted?): {t[:80]!r}')
    if got['page_scroll'] > 1: out.append(f"{doc}: the page scrolls sideways by {got['page_scroll']} px")
    out += [f'{doc}: wider than the content column: {w}' for w in got['wide']]
    text = got['text']
    for name, rx in RAW_MATH:
        for m in rx.finditer(text):
            out.append(f'{doc}: raw {name} in rendered text: …{text[max(0, m.start() - 40):m.end() + 40]!r}…'); break
    for m in SWALLOWED.finditer(text): out.append(f'{doc}: placeholder eaten as HTML: {text[m.start():m.end() + 20]!r}')
    for m in INTERNAL.finditer(text):
        out.append(f'{doc}: internal wording {m[0]!r}: …{text[max(0, m.start() - 50):m.end() + 30]!r}…')
    for f in FIXTURE:
        if f in text: out.append(f'{doc}: shows test-fixture output {f!r}')
    return out

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
                # and probes its TeX fonts for the glyphs STIX-Web (the font shipped) lacks, then uses STIX-Web's
                msg = entry.get('message', '')
                if entry.get('level') == 'SEVERE' and 'about:blank' not in msg and '/mathjax/fonts/HTML-CSS/TeX/' not in msg:
                    problems.append(f"{doc}: console error {msg}")
            ids[url] = set(driver.execute_script(_JS_IDS))
            if not doc.startswith('_modules/') and doc not in ('genindex', 'py-modindex', 'search'):
                driver.set_script_timeout(60)
                driver.execute_async_script(_JS_WAIT_MATH)
                src_nb = html.parent / 'src' / f'{doc}.ipynb'
                problems += reader_problems(doc, driver.execute_script(_JS_READER),
                                            stored_figures(src_nb) if src_nb.exists() else None)
            if not doc.startswith('_modules/') and doc.count('/') <= 1:
                driver.save_screenshot(str(SHOTS / (doc.replace('/', '__') + '.png')))
                if doc in ('index', '03_scarcity', '05_ablations'): full_page_shot(driver, DOC_SHOTS / f'{doc}.png')
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
    for p, code in srv.failed:
        # MathJax's HTML-CSS output probes its TeX fonts for the few glyphs STIX-Web (the font shipped) lacks, then uses STIX
        if p.startswith('/_static/mathjax/fonts/HTML-CSS/TeX/'): continue
        problems.append(f'server answered {code} for {p}')
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

def _lab_tools():
    "docs/explorer_screenshot.py, or a skip naming what is missing (Chromium, chromedriver, selenium)."
    browser, driver = chromium_paths()
    need(browser and driver, 'chromium / chromedriver not installed: run `bash .ci/install-browser.sh`')
    try: import selenium  # noqa: F401
    except ImportError: need(False, 'selenium is not installed: `pip install selenium`')
    sys.path.insert(0, str(ROOT / 'docs'))
    import explorer_screenshot
    return explorer_screenshot

def test_explorer_notebook_in_jupyterlab():
    "nbs/07_explorer.ipynb itself, opened in JupyterLab and Run All: the explorer appears (sliders) and moving top-k changes the Gini shown."
    run_explorer_notebook = _lab_tools().run_explorer_notebook
    r = run_explorer_notebook(DOC_SHOTS / 'explorer.png')
    assert r['sliders'] >= 1, r
    assert r['gini_after'] != r['gini_before'], r

def test_explorer_in_jupyterlab():
    "The explorer runs in a real JupyterLab: its figure renders and moving the k slider changes the Gini it shows."
    screenshot = _lab_tools().screenshot
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


_IMG_REF = re.compile(r'''!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\b[^>]*\bsrc=["']([^"']+)["']|Image\(\s*(?:filename=)?[^)]*?['"]([^'"]+\.(?:png|jpg|jpeg|svg|gif))['"]''')

def image_refs(nb_path: Path) -> list:
    "(cell index, path) of every image a notebook's markdown or code refers to by a relative path or a name under figures/."
    refs = []
    for i, c in enumerate(json.loads(nb_path.read_text())['cells']):
        src = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        for m in _IMG_REF.finditer(src):
            ref = next(g for g in m.groups() if g)
            if re.match(r'^[a-z]+:', ref) or ref.startswith(('/', '#', '{')): continue
            refs.append((i, ref))
        if c['cell_type'] == 'code':    # figure names listed for display from figures/ (e.g. the home page's figure list)
            refs += [(i, '../figures/' + n) for n in re.findall(r"['\"]([\w.-]+\.png)['\"]", src)
                     if re.search(r"\bF\s*/\s*name|FIGURES\s*/\s*name|figures/", src)]
    return refs

def test_every_referenced_image_exists():
    "Every image a notebook refers to (markdown ![](..), <img src>, Image(...), names shown from figures/) exists."
    missing = []
    for nb in sorted((ROOT / 'nbs').glob('*.ipynb')):
        for i, ref in image_refs(nb):
            p = (nb.parent / ref).resolve()
            if not p.exists() and not (ROOT / 'figures' / Path(ref).name).exists(): missing.append(f'{nb.name} cell {i}: {ref}')
    assert not missing, 'images referenced but missing:\n' + '\n'.join(missing)

def test_image_refs_finds_the_home_pages_figures(tmp_path):
    "The reference finder sees markdown images, <img> and the figure names a code cell shows from figures/."
    nb = tmp_path / 'x.ipynb'
    nb.write_text(json.dumps(dict(cells=[dict(cell_type='markdown', source='![a](../figures/a.png) <img src="b.png">'),
                                         dict(cell_type='code', source="for name in ['pareto.png']:\n    p = F / name")])))
    assert image_refs(nb) == [(0, '../figures/a.png'), (0, 'b.png'), (1, '../figures/pareto.png')]

def test_docs_escape_placeholders_and_math():
    "Parameter comments and prose keep `<task>`-like placeholders; API docstrings' $x$ become math."
    sys.path.insert(0, str(ROOT / 'docs'))
    from build import _md_cell_text, escape_placeholders, merge_streams
    from _ext.nbdev_docments import md_code_to_rst
    assert _md_cell_text('None: runs/<task>/<model>') == r'None: runs/\<task\>/\<model\>'
    assert _md_cell_text("'a|b'", code=True) == r"'a\|b'"
    assert escape_placeholders('in `<x>` and runs/<task>/ and <img src="a.png">') == r'in `<x>` and runs/\<task\>/ and <img src="a.png">'
    assert md_code_to_rst('rows of $W_O$, not $5') == 'rows of :math:`W_O`, not $5'
    outs = [dict(output_type='stream', name='stdout', text='\x1b[2K\r'), dict(output_type='stream', name='stdout', text='a\n'),
            dict(output_type='stream', name='stdout', text='b\n'), dict(output_type='display_data', data={}),
            dict(output_type='stream', name='stdout', text='c')]
    assert [o.get('text') for o in merge_streams(outs)] == ['a\nb\n', None, 'c']
