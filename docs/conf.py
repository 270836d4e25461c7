# Sphinx configuration of the compecon-nb site. Build with `python docs/build.py` (it writes the sources this
# config renders into docs/_build/src). Everything here works offline: no theme, font, script or math
# renderer is fetched at build time or by the pages.
import sys, tomllib, shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))          # import compecon_nb from the working tree for autodoc
sys.path.insert(0, str(DOCS))          # docs/_ext
_proj = tomllib.loads((ROOT / 'pyproject.toml').read_text())['project']

project = 'compecon-nb'
author = 'compecon-nb developers'
copyright = 'compecon-nb developers, Apache-2.0'
try:
    import compecon_nb; release = version = compecon_nb.__version__
except Exception: release = version = ''

extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.napoleon', 'sphinx.ext.viewcode',
              'sphinx.ext.mathjax', '_ext.nbdev_docments']
root_doc = 'index'
exclude_patterns = ['_build', '**.ipynb_checkpoints', 'titles.json']
suppress_warnings = ['myst.header', 'mystnb.unknown_mime_type', 'misc.highlighting_failure']

# ---- myst-nb: render the stored outputs, never execute
nb_execution_mode = 'off'
nb_output_stderr = 'remove'            # warnings and progress bars are noise on the site
nb_merge_streams = False              # docs/build.py merges *adjacent* stream outputs itself: a print stays beside its table
nb_ipywidgets_js = {}                  # widget views need a kernel (and a CDN): the site shows static figures
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence', 'html_image']
myst_heading_anchors = 3
nb_render_markdown_format = 'myst'

# ---- API reference
autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_default_options = {'members': True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# ---- HTML
html_theme = 'furo'
html_title = 'compecon-nb'
html_short_title = 'compecon-nb'
html_static_path = ['_static']
html_favicon = '_static/favicon.svg'
html_show_sourcelink = False
html_copy_source = False
html_theme_options = {'source_repository': _proj.get('urls', {}).get('Repository', ''),
                      'source_branch': 'main', 'source_directory': 'nbs/'}
html_css_files = ['custom.css']        # tables and outputs inside the content column, figure zoom
html_js_files = ['custom.js']          # click a figure to open it full size; math as text in search results

def _page_buttons(app, pagename, templatename, context, doctree):
    "Generated pages (API reference, index, search) have no source file in the repository: no view/edit buttons there."
    if pagename.startswith(('api/', '_modules/')) or pagename in ('genindex', 'py-modindex', 'search'):
        context['theme_top_of_page_buttons'] = []

def setup(app):
    app.connect('html-page-context', _page_buttons)

# ---- math: MathJax 2 served from the site itself (pip package jupyter-server-mathjax), never from a CDN
try:
    import jupyter_server_mathjax
    _mj = Path(jupyter_server_mathjax.__file__).parent / 'static'
    _dst = ROOT / 'docs' / '_build' / 'mathjax_static'
    if not (_dst / 'mathjax' / 'MathJax.js').exists():
        shutil.copytree(_mj, _dst / 'mathjax', dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns('*.mp3', '*.ogg', 'unpacked', 'localization', 'mathmaps'))
    html_static_path.append(str(_dst))
    mathjax_path = 'mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full'
    mathjax2_config = {'tex2jax': {'inlineMath': [['\\(', '\\)']], 'displayMath': [['\\[', '\\]']],
                                   'processEscapes': True, 'processClass': 'math|output_area',
                                   'ignoreClass': 'document'},
                       'HTML-CSS': {'availableFonts': [], 'preferredFont': None, 'webFont': 'STIX-Web',
                                    'imageFont': None},   # the package ships STIX-Web fonts only
                       'menuSettings': {'zoom': 'None'}, 'showMathMenu': False, 'messageStyle': 'none'}
    mathjax3_config = None
except ImportError:                   # pages still build; math then needs MathJax from the web
    print('docs: jupyter-server-mathjax is not installed; math falls back to a MathJax CDN', file=sys.stderr)
