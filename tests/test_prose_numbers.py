"""Prose types no result: every number in a notebook's Markdown is either allow-listed or found in a committed results JSON.

    python -m pytest tests/test_prose_numbers.py -q
    PROSE_NUMBERS_STRICT=1 python -m pytest tests/test_prose_numbers.py -q   # (b) off: list every number not allow-listed

The project's rule: a number a page states about a result comes from `results/*.json` and is rendered by code (a code
cell printing Markdown), never typed into a Markdown cell. This test reads every `nbs/*.ipynb` (plain JSON, no kernel)
and, in each Markdown cell, takes every numeric token (integers, decimals, `8,551`, percentages, `1e-4`, `10⁻⁶`,
`5·10⁻⁶`, factors like `1.18×`) outside

- math (`$…$`, `$$…$$`, `\\(…\\)`, `\\[…\\]`), inline code, fenced and indented code blocks, HTML tags and comments;
- link targets, URLs and file paths;
- references to parts of a text (`§3.2`, `Table 3`, `Figs 4–5`, `Eq 2`, `Algorithm 1`, `Task 1`), heading and list numbers;
- names that contain digits (`A100`, `GPT-2`, `fp16`, `WikiText-103`, `04b`) and citation years (1950–2039);

Each remaining number must be
(a) allow-listed for its notebook in `tests/prose_numbers_allowed.toml` (a table per notebook, `[all]` for every
    notebook, `[pending.<notebook>]` for numbers waiting to be rendered from JSON), each entry with its reason; or
(b) a value of one of the results JSON files the notebook names (its path under `results/` appears in the notebook),
    after rounding to the digits the prose shows, also read as a percentage (×100) — and only where such a match is
    unlikely by chance: the results hold thousands of numbers, so any "84.4 %" or "0.891" rounds to one of them. A
    match counts only when the pool is sparse around it: of the NEIGHBOURS rounding cells on either side of the number
    (84.3, 84.5, … at the prose's precision) at most MAX_NEIGHBOUR_HITS also hold a results number. Coarse numbers
    ("20 %", "3") and numbers in a crowded range (accuracies, correlations) therefore never pass by (b); distinctive
    ones (a dataset size like 4,906, a width like 1,536, a time like 316.1 s) do. Numbers of per-step logs, per-epoch
    histories, trajectories and heat maps (lists of lists) are not in the pool: no prose quotes them.
    (b) only says a typed number agrees with a results file today; the rule still asks for results to be rendered.

A failure reads `notebook:cell-index: number  (allow-list key) … context …`. Allow-list entries no notebook uses fail
too, so the list shrinks as numbers move into code.
"""
import bisect, json, math, os, re, tomllib
from functools import lru_cache
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS, RESULTS, ALLOWED = ROOT/'nbs', ROOT/'results', Path(__file__).with_name('prose_numbers_allowed.toml')
NOTEBOOKS = sorted(p.stem for p in NBS.glob('*.ipynb'))
STRICT = os.environ.get('PROSE_NUMBERS_STRICT', '').lower() not in ('', '0', 'false', 'no')
NEIGHBOURS, MAX_NEIGHBOUR_HITS = 10, 2   # (b) counts only where ≤ 2 of the 2 × 10 neighbouring rounding cells hold a results number
NOISE_KEYS = {'heatmap', 'maps', 'trajectory', 'steps', 'history', 'epochs'}

# ---------------------------------------------------------------- what is not prose
SUP = str.maketrans('⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺', '0123456789-+')
REFS = (r'(?<![\w-])(?:Tables?|Fig(?:ure)?s?\.?|Eq(?:uation)?s?\.?|Algorithms?|Sections?|Secs?\.?|Chapters?|Appendix|Task|Listing'
        r'|Theorem|Lemma|Step|[Nn]otebooks?)')
STRIP = [  # (pattern, replacement), applied in order
    (r'(?s)<!--.*?-->', ' '),
    (r'(?ms)^[ \t]*(```|~~~).*?^[ \t]*\1[^\n]*$', ' '),          # fenced code
    (r'(?<=\n\n)(?:(?: {4}|\t)[^\n]*(?:\n|$))+', ' '),             # indented code blocks (after a blank line)
    (r'(?s)\$\$.+?\$\$', ' '), (r'(?s)\\\[.+?\\\]', ' '),         # display math
    (r'(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$', ' '), (r'\\\(.+?\\\)', ' '),   # inline math
    (r'(`+)(?s:.+?)\1', ' '),                                      # inline code
    (r'<[^>\n]+>', ' '),                                           # HTML tags
    (r'\]\([^)\s]*(?:\s+"[^"]*")?\)', ']'),                        # link / image targets
    (r'(?m)^\s*\[[^\]]+\]:\s*\S+.*$', ' '),                        # reference-style link definitions
    (r'https?://\S+|www\.\S+', ' '),                               # bare URLs
    (r'[\w.~-]*[A-Za-z_][\w.~-]*/[\w./~*{}-]*', ' '),              # paths (a letter before a slash)
    (r'\b[\w.-]+\.(?:json|jsonl|ipynb|py|md|txt|log|parquet|toml|png|svg|csv|yaml|yml|pt|bin)\b', ' '),   # file names
    (r'§\s*\d+(?:\.\d+)*(?:\s*[–-]\s*\d+(?:\.\d+)*)?', ' '),       # §3.2, §5.1–5.2
    (rf'\b(?:{REFS})\s*\d+[a-z]?(?:\.\d+)*(?:(?:\s*(?:[–&/-]|and|or)\s*)\d+[a-z]?(?:\.\d+)*)*', ' '),  # Table 3, Figs 4–5
    (r'(?m)^(\s*#+\s*)\d+(?:\.\d+)*\.?(?=\s)', r'\1'),             # heading numbers: "## 3.2 Training"
    (r'(?m)^(\s*>?\s*)\d+[.)](?=\s)', r'\1'),                       # numbered list items
    (r'\(\s*(?:\d|[ivx]+)\s*\)', ' '),                             # enumerations (1) (2) (iv)
    (r'(?<![\d.,])(?:19[5-9]\d|20[0-3]\d)[a-z]?(?=\s*[);])|(?:(?<=\()|(?<=et al\. ))(?:19[5-9]\d|20[0-3]\d)[a-z]?\b', ' '),   # citation years
]
STRIP = [(re.compile(p), r) for p, r in STRIP]

def prose(src: str) -> str:
    "The Markdown `src` with everything that is not prose (see module docstring) blanked out."
    for p, r in STRIP: src = p.sub(r, src)
    return src

# ---------------------------------------------------------------- numbers
_SUPD = '[⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+'
_PLAIN = r'\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+'
NUM = re.compile(
    rf'(?P<m>{_PLAIN})\s*[·×x*⋅]\s*10\s*(?P<sup>{_SUPD})'          # 5·10⁻⁶
    rf'|(?P<m2>{_PLAIN})[eE](?P<e>[-+−]?\d+)'                      # 2e-5
    rf'|(?<![\d.])10(?P<sup2>{_SUPD})'                             # 10⁻⁶
    rf'|(?P<p>{_PLAIN})')
SUFFIX = re.compile(r'\s?(?P<pct>%)|(?P<x>[×x])(?![A-Za-z0-9])|(?P<xs>\s×)')
ORDINAL = re.compile(r'(?:st|nd|rd|th)\b')

def _decimals(s: str) -> int: return len(s.split('.')[1]) if '.' in s else 0

def numbers(text: str):
    "(key, value, half_width, start, end) of every numeric token of `text` (already `prose`d); names with digits skipped."
    out = []
    for m in NUM.finditer(text):
        a, b = m.span()
        before, after = text[max(0, a-2):a], text[b:b+12]
        if before[-1:].isalnum() or before[-1:] in '_\\' or (before[-1:] in '-.' and before[:1].isalnum()): continue
        if m['p'] is not None and (re.match(r'[A-Za-z_]', after) and not re.match(r'(?:[kKMGBT]|ms|s|h|min|GB|MB|GiB|MiB|pp|pt|x)\b', after)
                                   or ORDINAL.match(after)): continue
        if re.match(r'[-_][A-Za-z]', after) and m['p'] is not None and not re.match(r'-(?:fold|layer|head|epoch|step|point|pt|dim|bit|token|core|GPU|way|shot|d\b)', after): continue
        if m['m'] is not None:
            mant, exp = m['m'], int(m['sup'].translate(SUP))
        elif m['m2'] is not None:
            mant, exp = m['m2'], int(m['e'].replace('−', '-'))
        elif m['sup2'] is not None:
            mant, exp = '1', int(m['sup2'].translate(SUP))
        else:
            mant, exp = m['p'], 0
        v = float(mant.replace(',', '')) * 10.0**exp
        h = 0.5 * 10.0**(exp - _decimals(mant))
        key = re.sub(r'\s+', '', m.group(0))
        s = SUFFIX.match(text, b)
        if s:
            key += '%' if s['pct'] else '×'
            b = s.end()
        out.append((key, v, h, a, b))
    # "20–50 %": the first number of a range takes the unit of the second
    for i in range(len(out) - 1):
        k, v, h, a, b = out[i]
        k2, *_, a2, _ = out[i+1]
        if re.fullmatch(r'\s*(?:–|-|to)\s*', text[b:a2]) and k2[-1:] in '%×' and k[-1:] not in '%×':
            out[i] = (k + k2[-1], v, h, a, b)
    return out

# ---------------------------------------------------------------- results pool
def _walk(o, out):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in NOISE_KEYS: continue
            try: out.append(float(k))
            except ValueError: pass
            _walk(v, out)
    elif isinstance(o, list):
        if any(isinstance(v, list) for v in o): return        # matrices: heat maps, masks
        for v in o: _walk(v, out)
    elif isinstance(o, bool): pass
    elif isinstance(o, (int, float)):
        if math.isfinite(o): out.append(float(o))
    elif isinstance(o, str):
        try: out.append(float(o))
        except ValueError: pass

@lru_cache(None)
def results_values(rel: str) -> tuple:
    "Sorted absolute values of the numbers of results/`rel` (noise subtrees left out)."
    out = []
    _walk(json.loads((RESULTS/rel).read_text()), out)
    return tuple(sorted(abs(x) for x in out))

RESULT_FILES = sorted(str(p.relative_to(RESULTS)) for p in RESULTS.rglob('*.json'))

def _in(vals, lo, hi) -> bool:
    i = bisect.bisect_left(vals, lo)
    return i < len(vals) and vals[i] <= hi

def _hit(v: float, h: float, files) -> str | None:
    "The first of `files` holding a number that rounds to `v` (rounding half-width `h`), as is or ×100."
    eps = 1e-9 * max(abs(v), 1e-12)
    for f in files:
        vals = results_values(f)
        if _in(vals, v - h - eps, v + h + eps) or _in(vals, (v - h)/100 - eps, (v + h)/100 + eps): return f
    return None

def in_results(v: float, h: float, files) -> str | None:
    """The results file that `v` (typed with rounding half-width `h`) comes from, or None: a number of `files` must round
    to it, and at most MAX_NEIGHBOUR_HITS of its 2 × NEIGHBOURS neighbouring rounding cells may hold one (else the match
    is chance)."""
    v = abs(v)
    if not (f := _hit(v, h, files)): return None
    crowd = sum(_hit(v + s * 2 * h * j, h, files) is not None for j in range(1, NEIGHBOURS + 1) for s in (-1, 1))
    return f if crowd <= MAX_NEIGHBOUR_HITS else None

# ---------------------------------------------------------------- notebooks
@lru_cache(None)
def notebook(name: str) -> dict: return json.loads((NBS/f'{name}.ipynb').read_text())

def cell_src(c) -> str: return ''.join(c['source']) if isinstance(c['source'], list) else c['source']

def named_results(name: str) -> list:
    "The results files whose path under results/ appears somewhere in notebook `name`."
    src = '\n'.join(cell_src(c) for c in notebook(name)['cells'])
    return [f for f in RESULT_FILES if f in src]

@lru_cache(None)
def allowed() -> dict:
    "{notebook: {key: (section, reason)}} from the allow-list; `[all]` is merged into every notebook."
    t = tomllib.loads(ALLOWED.read_text())
    pending, common = t.pop('pending', {}), t.pop('all', {})
    for k, v in t.items(): assert isinstance(v, dict), f'[{k}] must be a table of "number" = "reason"'
    out = {}
    for nb in NOTEBOOKS:
        d = {k: ('all', r) for k, r in common.items()}
        d.update({k: (nb, r) for k, r in t.get(nb, {}).items()})
        d.update({k: (f'pending.{nb}', r) for k, r in pending.get(nb, {}).items()})
        out[nb] = d
    for sect in list(t) + [f'pending.{k}' for k in pending]:
        assert sect.split('.')[-1] in NOTEBOOKS, f'allow-list section [{sect}] names no notebook'
    return out

def check(name: str):
    "(failures, used allow-list sections/keys, (b) matches) of notebook `name`."
    allow, files = allowed()[name], named_results(name)
    bad, used, matched = [], set(), []
    for i, c in enumerate(notebook(name)['cells']):
        if c['cell_type'] != 'markdown': continue
        text = prose(cell_src(c))
        for key, v, h, a, b in numbers(text):
            if key in allow:
                used.add((allow[key][0], key)); continue
            ctx = ' '.join(text[max(0, a-50):b+50].split())
            if not STRICT and v and (f := in_results(v, h, files)):
                matched.append(f'{name}:{i}: {key} = results/{f}  … {ctx} …'); continue
            bad.append(f'{name}:{i}: {key}  … {ctx} …')
    return bad, used, matched

@lru_cache(None)
def check_all(): return {nb: check(nb) for nb in NOTEBOOKS}

# ---------------------------------------------------------------- tests of the reader itself
def keys(md: str) -> list: return [k for k, *_ in numbers(prose(md))]

def test_reader():
    assert keys('accuracy 84.4 % at λ = 1e-4, 5·10⁻⁶ and 10⁻⁶; 1.18× faster; 8,551 rows; 20–50 %') == \
        ['84.4%', '1e-4', '5·10⁻⁶', '10⁻⁶', '1.18×', '8,551', '20%', '50%']
    assert keys('$\\lambda = 10^{-4}$ and $$G = 0.5$$ with `lr=2e-5`, see [run](results/run3.json) '
                'and https://x.org/1.2, §3.2, Table 3, Figs 4–5, Eq 2, Algorithm 1') == []
    assert keys('an A100, GPT-2, fp16, WikiText-103, the 2nd run, [04b](04b_fast.ipynb), Cer et al. (2017)') == []
    assert keys('## 3.2 Results\n1. first 12 heads\n(2) two') == ['12']
    assert keys('runs:\n\n    cmd --lams 0,1e-5 --seeds 3\n\nthen 7 more') == ['7']
    assert keys('CoFi (Xia, Zhong & Chen 2022), Sajjad et al. 2023 find, notebooks 04–06, Table 3, 12 heads') == ['12']
    assert keys('−0.05 and 3x and 110M and a 6-layer model') == ['0.05', '3×', '110', '6']

def test_pool():
    f = RESULT_FILES[0]
    v = results_values(f)[-1]                                  # the largest number of a file: alone in its range
    assert in_results(v, v * 1e-6, [f]) == f and in_results(v * 1.37 + 1, v * 1e-6, [f]) is None
    assert all(math.isfinite(x) for x in results_values(f))
    files = RESULT_FILES                                       # a crowded range: a typed accuracy never passes by chance
    assert _hit(84.4, 0.05, files) and in_results(84.4, 0.05, files) is None and in_results(20, 0.5, files) is None

# ---------------------------------------------------------------- the rule
@pytest.mark.parametrize('name', NOTEBOOKS)
def test_prose_numbers(name):
    bad, _, _ = check_all()[name]
    assert not bad, f'{len(bad)} number(s) typed in Markdown of {name}.ipynb: render them from results JSON ' \
        f'or allow-list them with a reason in {ALLOWED.name}\n' + '\n'.join(bad)

def test_allow_list_is_used():
    used = set().union(*(u for _, u, _ in check_all().values()))
    t = tomllib.loads(ALLOWED.read_text())
    declared = {(s, k) for s, d in t.items() if s not in ('pending',) for k in d} | \
               {(f'pending.{nb}', k) for nb, d in t.get('pending', {}).items() for k in d}
    stale = sorted(f'[{s}] "{k}"' for s, k in declared - used)
    assert not stale, 'allow-list entries no Markdown cell uses any more (remove them):\n' + '\n'.join(stale)
