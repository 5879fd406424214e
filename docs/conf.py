"""Sphinx configuration of the gmp-moments documentation.

Build: ``pip install -e ".[docs]" && python -m sphinx -W -b html docs docs/_build/html``
(what .ci/run does). The markdown pages in docs/ are the source (myst-parser); the API
reference is generated from the docstrings (autosummary + numpydoc); the gallery runs
the scripts in examples/ (sphinx-gallery).
"""
import os
import re
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import gmp  # noqa: E402

project = "gmp-moments"
author = "gmp-moments developers"
copyright = "gmp-moments developers"
release = version = gmp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]
templates_path = ["_templates"]

# -- markdown (the existing pages stay the source) -----------------------------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 4          # the pages link to their own sections: [x](#from-points-to-measures)

# -- API reference -------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options: dict = {}   # the module template (_templates/autosummary/module.rst) sets members:
                                     # a package page only summarizes (its names are documented where defined)
autodoc_typehints = "none"        # numpydoc's Parameters sections carry the types
# numpydoc renders the sections; its validation is off: the docstrings are being edited by
# several developers at once, and a style rule is no reason to fail the build.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set = set()
numpydoc_xref_param_type = False

# -- gallery -------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",        # run every example
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
}
# the examples warn where the library warns (e.g. a misfit); those are output, not build errors
warnings.filterwarnings("ignore", category=RuntimeWarning)
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

# -- HTML ----------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"gmp-moments {release}"
html_static_path: list = []
html_theme_options = {"description": "The Generalized Moment Problem in Python", "page_width": "1100px"}


# -- docstring hooks -----------------------------------------------------------
# Docstrings write absolute values and norms as |x|, which reStructuredText reads as a
# substitution: escape them (outside ``literals`` and literal blocks) instead of asking
# every module to avoid the notation.
_ABS = re.compile(r"(?<![\\\w`|])\|(?=[^\s|])([^|\n]*?[^\s|\\])\|(?![\w`_|])")
_LITERAL = re.compile(r"(``.*?``)")


def _escape_abs(app, what, name, obj, options, lines):
    in_block, block_indent = False, 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if in_block:
            if stripped and indent <= block_indent:
                in_block = False
            else:
                continue
        if stripped.startswith(("|", "+", ">>>", "...")):
            pass                               # a line block, a grid table or a doctest
        else:
            parts = _LITERAL.split(line)
            lines[i] = "".join(p if k % 2 else _ABS.sub(r"\\|\1\\|", p) for k, p in enumerate(parts))
        if stripped.endswith("::"):
            in_block, block_indent = True, indent


def _skip_foreign_members(app, what, name, obj, skip, options):
    # scikit-learn's metadata-routing methods (set_score_request, ...) are theirs to document
    module = getattr(obj, "__module__", "") or ""
    if module.startswith("sklearn"):
        return True
    return None


def _summary_outside_literals():
    """autosummary ends a summary at the first '. ', also inside ``s.t. x`` (an unclosed literal):
    end it at the first sentence end outside double-backtick literals instead."""
    import sphinx.ext.autosummary as autosummary

    original = autosummary.extract_summary

    def extract_summary(doc, document):
        summary = original(doc, document)
        if summary.count("``") % 2 == 0:
            return summary
        lines = [ln.strip() for ln in doc]
        while lines and not lines[0]:
            lines.pop(0)
        para = " ".join(lines[: lines.index("")] if "" in lines else lines)
        out = ""
        for k, part in enumerate(_LITERAL.split(para)):
            end = None if k % 2 else re.search(r"\.(\s|$)", part)
            if end:
                return out + part[: end.start() + 1]
            out += part
        return out

    autosummary.extract_summary = extract_summary


_summary_outside_literals()


def setup(app):
    app.connect("autodoc-process-docstring", _escape_abs)
    app.connect("autodoc-skip-member", _skip_foreign_members)
