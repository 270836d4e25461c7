"""Sphinx extension: add nbdev's parameter comments to autodoc's output.

nbdev documents parameters with a comment after each one (fastcore's *docments*):

    def gini(w:Tensor,      # weights, one distribution per row
             mask=None):    # True where a weight counts
        "Gini coefficient of each row (Eq 4)."

This hook turns those comments (and the return comment) into `:param x:` / `:returns:` fields, so the API page
lists them; a docstring that already documents a parameter wins.
"""
import inspect, re

_CODE = re.compile(r'(?<![`\\])`([^`\n]+)`(?!`)')
_EMPH = re.compile(r'(\*\*?)(?=\S)([^*\n]*?\S)\1(?!\w)')

_DOLLAR = re.compile(r'(?<![\\$\w])\$(?=\S)([^$\n]*?\S)\$(?![\w$])')

def _escape_text(t: str) -> str:
    "Markdown text -> rst text: `$x$` becomes :math:`x`, keep *emphasis*, escape what rst would misread (|x|, lone *, trailing _)."
    keep = {}
    def hold(m, text=None):
        keep[f'\x00{len(keep)}\x00'] = m[0] if text is None else text; return f'\x00{len(keep) - 1}\x00'
    t = _DOLLAR.sub(lambda m: hold(m, f':math:`{m[1]}`'), t)
    t = _EMPH.sub(hold, t)
    t = t.replace('|', '\\|').replace('*', '\\*')
    t = re.sub(r'(?<=\w)_(?=\W|$)', r'\\_', t)
    for k, v in keep.items(): t = t.replace(k, v)
    return t

def md_code_to_rst(line: str) -> str:
    "nbdev docstrings are markdown: `x` is code. Make it rst ``x`` (escaped where a letter touches it)."
    if ':param' in line or line.lstrip().startswith(('.. ', ':')): return line
    out, pos = [], 0
    for m in _CODE.finditer(line):
        s, e = m.start(), m.end()
        out.append(_escape_text(line[pos:s]))
        pre = '\\ ' if s > 0 and line[s - 1].isalnum() else ''
        post = '\\ ' if e < len(line) and line[e].isalnum() else ''
        out.append(f'{pre}``{m[1]}``{post}')
        pos = e
    out.append(_escape_text(line[pos:]))
    return ''.join(out)

def _docments(obj):
    try:
        from fastcore.docments import docments
        return docments(obj, full=True)
    except Exception: return {}

def add_param_comments(app, what, name, obj, options, lines):
    if what == 'module':   # nbdev's module header points at a Quarto site; the docs are here
        lines[:] = [l for l in lines if not l.startswith('Docs: http')]
    lines[:] = [md_code_to_rst(l) for l in lines]
    if what not in ('function', 'method', 'class') or not callable(obj): return
    target = obj.__init__ if inspect.isclass(obj) else obj
    docs = _docments(target)
    text = '\n'.join(lines)
    extra = []
    for p, d in docs.items():
        comment = (d.get('docment') or '').strip() if isinstance(d, dict) else ''
        if not comment or p == 'self': continue
        if p == 'return':
            if ':returns:' not in text and ':return:' not in text: extra.append(f':returns: {comment}')
        elif f':param {p}:' not in text and f':param {p} ' not in text:
            extra.append(f':param {p}: {comment}')
    if extra:
        if lines and lines[-1].strip(): lines.append('')
        lines.extend(extra)

def setup(app):
    app.connect('autodoc-process-docstring', add_param_comments)
    return dict(parallel_read_safe=True, parallel_write_safe=True)
