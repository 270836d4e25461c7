"""Build the compecon-nb docs site offline: notebooks -> Sphinx sources -> HTML.

    python docs/build.py            # -> docs/_build/html
    python docs/build.py --strict   # warnings are errors
    python -m http.server -d docs/_build/html 8000   # preview

Steps: every `nbs/*.ipynb` is copied to `docs/_build/src/` with nbdev's directives handled (`#| hide` cells
removed, `#| ...` lines stripped from shown code), its `parameters` cell rendered as a table above it, and a
link to the API reference under each `#| export` cell; one API page per exported module is generated for
sphinx.ext.autodoc; then Sphinx (myst-nb, furo; config in docs/conf.py) renders the stored outputs
(nothing is executed, nothing is fetched).
"""
from __future__ import annotations
import argparse, ast, io, json, re, shutil, sys, tokenize
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
BUILD = DOCS / '_build'

# ---------------------------------------------------------------- nbdev directives
_DIRECTIVE = re.compile(r'^\s*#\s*\|\s*(.*?)\s*$')

def split_directives(src: str) -> tuple[dict, str]:
    "Leading `#| key [value]` / `#| key: value` lines of a code cell -> ({key: value}, remaining source)."
    lines, dirs = src.splitlines(), {}
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m:
            body = m.group(1)
            first, _, rest = body.partition(' ')
            key, val = (first[:-1], rest) if first.endswith(':') else first.partition(':')[::2] if ':' in first else (first, rest)
            if key: dirs[key.strip().replace('_', '-')] = val.strip()
        elif lines[i].strip():
            break
        i += 1
    return dirs, '\n'.join(lines[i:]).strip('\n')

_HIDE = {'hide', 'default-exp', 'exporti-hide'}
_EXPORT = {'export', 'exports', 'exporti', 'exp'}

def is_false(v: str) -> bool: return v.strip().lower() in ('false', 'no', '0')

# ---------------------------------------------------------------- parameters cell
def parameter_rows(src: str) -> list[dict]:
    """Rows (name, default, comment) of a papermill `parameters` cell: one per top-level assignment; the comment
    is the `# ...` on the assignment's line(s), else the comment lines right above it."""
    src = '\n'.join(l for l in src.splitlines() if not _DIRECTIVE.match(l))
    tree = ast.parse(src)
    comments = {}   # line -> comment text
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type == tokenize.COMMENT: comments[tok.start[0]] = tok.string.lstrip('#').strip()
    lines, rows = src.splitlines(), []
    for node in tree.body:
        if isinstance(node, ast.Assign): targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None: targets, value = [node.target], node.value
        else: continue
        names = []
        for t in targets:
            names += [e.id for e in (t.elts if isinstance(t, (ast.Tuple, ast.List)) else [t]) if isinstance(e, ast.Name)]
        if not names: continue
        same = [comments[l] for l in range(node.lineno, node.end_lineno + 1) if l in comments]
        above, l = [], node.lineno - 1
        while not same and l >= 1 and lines[l - 1].strip().startswith('#'):
            above.insert(0, comments.get(l, '')); l -= 1
        rows.append(dict(name=', '.join(names), default=ast.get_source_segment(src, value),
                         comment=' '.join(same or above)))
    return rows

_MD_SPECIAL = re.compile(r'([\\|$<>*_\[\]])')

def _md_cell_text(s: str, code: bool = False) -> str:
    """Text for one markdown table cell: `code=True` (inside backticks) escapes only `|`; prose also escapes what
    markdown or HTML would eat (`<task>` is an HTML tag to a markdown parser, `$` opens math, `*`/`_` emphasis)."""
    s = s.replace('\n', ' ')
    if code: return s.replace('|', r'\|')
    parts = re.split(r'(`[^`]*`)', s)             # `code spans` inside a comment stay code (only `|` escaped)
    return ''.join(p.replace('|', r'\|') if p.startswith('`') and p.endswith('`') and len(p) > 1 else _MD_SPECIAL.sub(r'\\\1', p)
                   for p in parts)

def parameter_table(rows: list[dict], nb_name: str) -> str:
    "Markdown table of a notebook's parameters, with the papermill command that changes them."
    if not rows: return ''
    ex = rows[0]['name'].split(',')[0]
    head = (f'**Parameters** of this notebook (the cell tagged `parameters`); change any with\n'
            f'`papermill nbs/{nb_name} out.ipynb -p {ex} <value>`.\n\n'
            '| name | default | comment |\n|---|---|---|\n')
    return head + '\n'.join(f"| `{r['name']}` | `{_md_cell_text(r['default'], code=True)}` | {_md_cell_text(r['comment'])} |"
                            for r in rows) + '\n'

# ---------------------------------------------------------------- notebook -> docs source
def exported_names(src: str) -> list[str]:
    "Public top-level functions and classes defined in an exported cell (nbdev puts these in `__all__`)."
    try: tree = ast.parse(src)
    except SyntaxError: return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and not n.name.startswith('_')]

_LINK = re.compile(r'(!?)\[([^\]]*)\]\(\s*([^)\s]+)([^)]*)\)')
_IMG_SRC = re.compile(r'''(<img\b[^>]*\bsrc=["'])([^"']+)(["'])''')

def _is_relative(t: str) -> bool: return not re.match(r'^[a-z][a-z0-9+.-]*:|^#|^/', t, re.I)

def rewrite_links(md: str, nbs: Path, src: Path, repo_url: str | None, assets: set) -> str:
    """Make a notebook's relative links work from the site: images are copied beside the pages (same path below
    the repo root), links to other notebooks stay notebook links, links to other repo files go to the repository."""
    def target(t: str, image: bool) -> str:
        if not _is_relative(t): return t
        path, _, frag = t.partition('#')
        f = (nbs / path).resolve()
        try: rel = f.relative_to(ROOT)
        except ValueError: return t
        if f.suffix == '.ipynb' and f.parent == nbs.resolve(): return f.name + ('#' + frag if frag else '')
        if image or f.suffix.lower() in ('.png', '.svg', '.jpg', '.jpeg', '.gif'):
            if f.exists(): assets.add(rel); return rel.as_posix()
            return t
        if repo_url and f.exists(): return f"{repo_url}/blob/main/{rel.as_posix()}"
        return t
    md = _LINK.sub(lambda m: f"{m[1]}[{m[2]}]({target(m[3], bool(m[1]))}{m[4]})", md)
    return _IMG_SRC.sub(lambda m: m[1] + target(m[2], True) + m[3], md)

def _md(text: str) -> dict:
    import uuid
    return dict(cell_type='markdown', id=uuid.uuid4().hex[:8], metadata={}, source=text)

def _drop_widgets(outputs: list) -> list:
    "Widget views need a kernel: drop them (the notebook renders a static figure for the site instead)."
    return [o for o in outputs if 'application/vnd.jupyter.widget-view+json' not in o.get('data', {})]

_ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]|\r')

def merge_streams(outputs: list) -> list:
    "Merge *adjacent* stream outputs of the same name (myst-nb's own merge moves every print above the tables between them); drop empty ones (progress-bar erase codes)."
    out = []
    for o in outputs:
        if o.get('output_type') == 'stream' and not _ANSI.sub('', ''.join(o.get('text', ''))).strip(): continue   # only \r / erase codes
        if o.get('output_type') == 'stream' and out and out[-1].get('output_type') == 'stream' and out[-1].get('name') == o.get('name'):
            t = lambda x: ''.join(x['text']) if isinstance(x['text'], list) else x['text']
            out[-1] = dict(out[-1], text=t(out[-1]) + t(o))
        else: out.append(o)
    return out

HTML_TAGS = {'a', 'abbr', 'b', 'br', 'code', 'details', 'div', 'em', 'figcaption', 'figure', 'hr', 'i', 'img', 'kbd', 'li',
             'ol', 'p', 'pre', 'small', 'span', 'strong', 'sub', 'summary', 'sup', 'table', 'tbody', 'td', 'th', 'thead',
             'tr', 'u', 'ul', 'center', 'font', 'iframe', 'video', 'source', 'style', 'script', 'caption', 'del', 'ins', 'mark'}
_PROTECT = re.compile(r'(```.*?```|~~~.*?~~~|`[^`\n]*`|\$\$.*?\$\$|(?<![\\$])\$[^$\n]+\$)', re.S)
_TAGLIKE = re.compile(r'<(/?)([A-Za-z][\w.-]*)([^<>\n]*)>')

def escape_placeholders(md: str) -> str:
    """Escape `<task>`-like placeholders in markdown prose (outside code and math), which a markdown parser would take
    for an HTML tag and swallow; real HTML tags (`<img>`, `<details>`, ...) and autolinks (`<https://…>`) are kept."""
    def fix(m):
        if m[2].lower() in HTML_TAGS or m[3].startswith(':') or '://' in m[0] or '@' in m[0]: return m[0]
        return '\\<' + m[0][1:-1] + '\\>'
    return ''.join(p if i % 2 else _TAGLIKE.sub(fix, p) for i, p in enumerate(_PROTECT.split(md)))

def process_notebook(nb: dict, nb_name: str, nbs: Path, src: Path, repo_url=None, assets=None) -> dict:
    "One nbdev notebook (as JSON dict) -> the notebook myst-nb renders."
    assets = set() if assets is None else assets
    module, cells = None, []
    for c in nb['cells']:
        text = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        c = dict(c, source=text)
        tags = list(c.get('metadata', {}).get('tags', []))
        if c['cell_type'] == 'markdown':
            c['source'] = escape_placeholders(rewrite_links(text, nbs, src, repo_url, assets))
            cells.append(c); continue
        if c['cell_type'] != 'code': cells.append(c); continue
        dirs, body = split_directives(text)
        if 'default-exp' in dirs: module = dirs['default-exp'].split()[0] if dirs['default-exp'] else None
        if _HIDE & dirs.keys() or is_false(dirs.get('include', 'true')) or 'injected-parameters' in tags: continue
        c['outputs'] = merge_streams(_drop_widgets(c.get('outputs', [])))
        if not body.strip() and not c['outputs']: continue
        c['source'] = body
        meta = dict(c.get('metadata', {}))
        if is_false(dirs.get('echo', 'true')) or 'hide-input' in dirs: tags.append('remove-input')
        if is_false(dirs.get('output', 'true')) or 'hide-output' in dirs: tags.append('remove-output')
        if 'parameters' in tags:
            try: rows = parameter_rows(text)
            except SyntaxError: rows = []
            if rows:
                cells.append(_md(parameter_table(rows, nb_name)))
                tags.append('hide-input')
        meta['tags'] = sorted(set(tags))
        c['metadata'] = meta
        cells.append(c)
        if module and _EXPORT & dirs.keys() and 'exporti' not in dirs:
            names = exported_names(body)
            if names:
                cells.append(_md('API: ' + ', '.join(f'{{py:obj}}`{n} <compecon_nb.{module}.{n}>`' for n in names)))
    # nbdev's first cells (default_exp, imports) come before the title: show them under it, folded
    first = next((i for i, c in enumerate(cells) if c['cell_type'] == 'markdown'
                  and re.match(r'\s*#\s', c['source'])), 0)
    pre = [c for c in cells[:first] if c['cell_type'] == 'code']
    for c in pre: c['metadata']['tags'] = sorted(set(c['metadata'].get('tags', [])) | {'hide-input'})
    top = [_md(f'*Exports* {{doc}}`compecon_nb.{module} </api/{module}>` (API reference) · '
               f'source: `nbs/{nb_name}`')] if module and module_exists(module) else []
    cells = cells[first:first + 1] + top + pre + [c for c in cells[:first] if c['cell_type'] != 'code'] + cells[first + 1:]
    for i, c in enumerate(cells):
        c.setdefault('id', f'cell-{i}')
        if c['cell_type'] == 'markdown': c.pop('outputs', None); c.pop('execution_count', None)
    md = dict(nb.get('metadata', {}))
    md.pop('widgets', None)
    md.setdefault('kernelspec', dict(name='python3', display_name='Python 3', language='python'))
    md.setdefault('language_info', dict(name='python'))
    return dict(nb, cells=cells, metadata=md, nbformat=4, nbformat_minor=max(5, nb.get('nbformat_minor', 5))), module

def module_exists(module: str) -> bool: return (ROOT / 'compecon_nb' / f'{module}.py').exists()

def notebook_title(nb: dict) -> str | None:
    "Text of the first `# Title` heading of a notebook (what the page is called)."
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        text = ''.join(c['source']) if isinstance(c['source'], list) else c['source']
        m = re.search(r'^#\s+(.+?)\s*$', text, re.M)
        if m: return m.group(1)
    return None

def notebooks(nbs: Path) -> list[Path]:
    return sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))

def repo_url() -> str | None:
    try:
        import tomllib
        return tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']['urls']['Repository'].rstrip('/')
    except Exception: return None

# ---------------------------------------------------------------- API pages
def api_pages(modules: dict[str, str], src: Path) -> list[str]:
    "One page per exported module (autodoc of its `__all__`), plus an index. modules: module -> notebook file."
    d = src / 'api'; d.mkdir(parents=True, exist_ok=True)
    names = sorted(modules, key=lambda m: modules[m])
    for m in names:
        nb = modules[m]
        (d / f'{m}.md').write_text(
            f'# compecon_nb.{m}\n\nExported from [{nb}](../{nb}) by `nbdev-export`; each entry links to its source.\n\n'
            f'```{{eval-rst}}\n.. automodule:: compecon_nb.{m}\n   :members:\n   :undoc-members:\n   :show-inheritance:\n```\n')
    toc = '\n'.join(names)
    (d / 'index.md').write_text(
        '# API reference\n\nThe `compecon_nb` package, generated from the exported (`#| export`) cells of the '
        'notebooks: signatures, docstrings and the parameter comments (`x: int, # what x is`).\n\n'
        f'```{{toctree}}\n:maxdepth: 1\n\n{toc}\n```\n')
    return names

# ---------------------------------------------------------------- build
def prepare(nbs: Path, src: Path) -> dict:
    "Write the Sphinx source tree under `src`; returns {docname: expected page title}."
    if src.exists(): shutil.rmtree(src)
    src.mkdir(parents=True)
    url, assets, modules, titles, order = repo_url(), set(), {}, {}, []
    for p in notebooks(nbs):
        nb = json.loads(p.read_text())
        out, module = process_notebook(nb, p.name, nbs, src, url, assets)
        if module and module_exists(module): modules[module] = p.name
        elif module: print(f'docs: compecon_nb/{module}.py is missing (run nbdev-export); no API page for it', file=sys.stderr)
        titles[p.stem] = notebook_title(nb) or p.stem
        if p.stem != 'index': order.append(p.stem)
        (src / p.name).write_text(json.dumps(out, indent=1))
    for rel in assets:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    api = api_pages(modules, src)
    if not (src / 'index.ipynb').exists():
        (src / 'index.ipynb').write_text(json.dumps(dict(nbformat=4, nbformat_minor=5, metadata={}, cells=[_md('# compecon-nb')])))
        titles['index'] = 'compecon-nb'
    idx = json.loads((src / 'index.ipynb').read_text())
    toc = '\n'.join(order + ['api/index'])
    # the sidebar lists the notebooks; the home page's own table describes them (listed once on the page)
    idx['cells'].append(_md(f'```{{toctree}}\n:maxdepth: 1\n:caption: Notebooks\n:hidden:\n\n{toc}\n```'))
    (src / 'index.ipynb').write_text(json.dumps(idx, indent=1))
    titles['api/index'] = 'API reference'
    titles.update({f'api/{m}': f'compecon_nb.{m}' for m in api})
    (src / 'titles.json').write_text(json.dumps(titles, indent=1))
    return titles

def build(nbs: Path = ROOT / 'nbs', out: Path = BUILD, strict: bool = False, quiet: bool = True) -> Path:
    "Build the HTML site into `out/html`; returns that folder."
    from sphinx.cmd.build import build_main
    src, html = out / 'src', out / 'html'
    prepare(Path(nbs), src)
    for d in (html, out / 'doctrees'): shutil.rmtree(d, ignore_errors=True)   # clean build: viewcode keeps stale pages
    args = ['-b', 'html', '-c', str(DOCS), '-d', str(out / 'doctrees'), str(src), str(html)]
    if strict: args += ['-W', '--keep-going']
    if quiet: args += ['-q']
    rc = build_main(args)
    if rc: raise SystemExit(f'sphinx-build failed (exit {rc})')
    shutil.copy2(src / 'titles.json', html / '_titles.json')
    return html

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--nbs', default=str(ROOT / 'nbs'), help='folder of notebooks (default: nbs/)')
    ap.add_argument('--out', default=str(BUILD), help='build folder (default: docs/_build)')
    ap.add_argument('--strict', action='store_true', help='treat Sphinx warnings as errors')
    ap.add_argument('-v', '--verbose', action='store_true', help="print Sphinx's progress")
    a = ap.parse_args(argv)
    html = build(Path(a.nbs), Path(a.out), a.strict, quiet=not a.verbose)
    print(f'built {html}/index.html\npreview: python -m http.server -d {html} 8000')

if __name__ == '__main__': main()
