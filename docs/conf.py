"""Sphinx configuration of tsdiff's documentation site.

Build it from the repository root with::

    sphinx-build -W --keep-going -b html docs docs/_build/html

Why Sphinx rather than MkDocs: tsdiff's docstrings are numpydoc, which Sphinx's
numpydoc extension renders natively (parameters, returns, examples), and
scikit-learn and sktime, whose conventions tsdiff follows, document themselves
with Sphinx, numpydoc and sphinx-gallery. Markdown pages go through myst-parser.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import tsdiff

HERE = Path(__file__).resolve().parent

project = "tsdiff"
author = "the tsdiff developers"
copyright = "the tsdiff developers; BSD-3-Clause licence"
release = tsdiff.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
# Keep straight quotes: types such as {"ddpm", "vp"} are values to type in.
smartquotes = False
templates_path = ["_templates"]
# bad_inputs.md is a page of the user guide through an include
# (user_guide/bad_inputs.md), not a page of its own.
exclude_patterns = ["_build", "bad_inputs.md"]

# -- Markdown (myst-parser) -------------------------------------------------------
myst_heading_anchors = 3  # links such as gpus.md#what-a-fit-costs

# -- API reference (autosummary + numpydoc) ----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc's Parameters sections state the types
toc_object_entries_show_parents = "hide"  # "fit()" in a page's contents
numpydoc_show_class_members = False  # the class template lists the methods
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()  # tests/test_docstring_format.py does

# tsdiff.sktime needs the optional sktime extra; without it the adapters are
# documented from their source with sktime and skpro mocked.
try:
    import sktime  # noqa: F401
except ImportError:  # pragma: no cover
    autodoc_mock_imports = ["sktime", "skpro"]


METHOD_ORDER = (
    "fit",
    "transform",
    "predict",
    "predict_quantiles",
    "predict_interval",
    "sample",
    "update",
    "backtest",
    "upsample",
    "denoise",
    "generate",
    "plot",
    "save",
    "load",
)
"""The order of the methods on a class's page; others follow alphabetically."""


def own_methods(cls: type) -> list[str]:
    """Public methods of a tsdiff class that tsdiff itself defines (its own or
    those of tsdiff's mixins), in ``METHOD_ORDER``; those of scikit-learn's and
    sktime's base classes (``get_params``, ``set_output``, ...) are documented
    there."""
    names = []
    for attr in dir(cls):
        if attr.startswith("_") or attr == "get_test_params":
            continue
        if isinstance(inspect.getattr_static(cls, attr), property):
            continue
        value = getattr(cls, attr)
        owner = getattr(value, "__module__", None) or ""
        if callable(value) and owner.split(".")[0] == "tsdiff":
            names.append(attr)
    rank = {name: i for i, name in enumerate(METHOD_ORDER)}
    return sorted(names, key=lambda attr: (rank.get(attr, len(rank)), attr))


def _public_classes():
    """``(full name, class)`` of the classes in the ``__all__`` of the modules that
    the API reference documents."""
    modules = ("tsdiff", "tsdiff.baselines", "tsdiff.datasets", "tsdiff.frames")
    modules += ("tsdiff.sktime",)
    for module_name in modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # tsdiff.sktime without the sktime extra
            continue
        for name in module.__all__:
            if inspect.isclass(obj := getattr(module, name)):
                yield f"{module_name}.{name}", obj


# The class template (_templates/autosummary/class.rst) documents these methods.
autosummary_context = {
    "own_methods": {name: own_methods(cls) for name, cls in _public_classes()}
}

# -- Gallery (sphinx-gallery) --------------------------------------------------------
# The examples run at every build. TSDIFF_EXAMPLE_TINY=1 makes them train for
# seconds on a CPU (the tests build the site so); unset, they use real settings.
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples" / "gallery"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",  # the CO2 example first
    "download_all_examples": False,
    "remove_config_comments": True,
    "doc_module": ("tsdiff",),
    "backreferences_dir": None,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "capture_repr": ("_repr_html_", "__repr__"),
    "min_reported_time": 1,
}

# -- HTML (pydata-sphinx-theme) -------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"tsdiff {release}"
html_static_path = ["_static"]
html_css_files = ["tsdiff.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
# Pages without sub-pages get no (empty) section navigation on the left.
html_sidebars = {
    page: [] for page in ("index", "installation", "benchmarks", "architecture")
}
