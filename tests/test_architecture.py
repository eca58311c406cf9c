"""The layers of the package hold (docs/architecture.md): import contracts checked by
import-linter (``[tool.importlinter]`` in pyproject.toml), no private names imported
across packages, light imports of the lower layers and files of a readable size."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tsdiff"
MAX_LINES = 500


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The package a module belongs to (``tsdiff.engine.lr`` -> ``tsdiff.engine``);
    a module on the package root is its own unit."""
    return ".".join(module.split(".")[:2])


def test_the_import_contracts_hold():
    pytest.importorskip("importlinter")
    # In a process of its own: import-linter reconfigures logging, which would
    # silence the loggers of the tests that run after it.
    config = str(ROOT / "pyproject.toml")
    code = (
        "from importlinter.cli import lint_imports; "
        f"raise SystemExit(lint_imports(config_filename={config!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_no_private_name_is_imported_across_packages():
    crossings = []
    for path, module in _modules():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:  # relative: resolve against this module's package
                base = module.split(".")[
                    : len(module.split(".")) - node.level + is_package
                ]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "tsdiff" or _unit(target) == _unit(module):
                continue
            private = [p for p in target.split(".")[1:] if p.startswith("_")]
            names = [
                a.name for a in node.names
                if a.name.startswith("_") and a.name != "__version__"
            ]  # fmt: skip
            if private or names:
                crossings.append(f"{module}: from {target} import {names or '...'}")
    assert not crossings, crossings


@pytest.mark.parametrize("package", ["nn", "diffusion", "data", "engine"])
def test_lower_layers_load_neither_pandas_nor_scikit_learn(package):
    code = (
        f"import sys, tsdiff.{package}; "
        "print(sorted(m for m in ('pandas', 'sklearn', 'scipy', 'tsdiff.forecaster') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_the_top_level_imports_the_estimators_on_first_use():
    code = (
        "import sys, tsdiff; before = 'tsdiff.forecaster' in sys.modules; "
        "tsdiff.DiffusionForecaster; print(before, 'tsdiff.forecaster' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["False", "True"]


def test_no_file_of_the_package_is_over_500_lines():
    long = {
        module: n
        for path, module in _modules()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


OUTPUT_METHODS = (
    "predict",
    "predict_quantiles",
    "predict_interval",
    "sample",
    "transform",
)


def test_the_output_methods_read_in_the_source_as_they_print():
    # Their docstrings are static: what help() shows is the text in the source of the
    # function that defines the method, for every estimator (no templating).
    import inspect
    import textwrap

    import tsdiff.baselines as baselines
    from tsdiff import DiffusionForecaster, DiffusionImputer

    classes = [DiffusionForecaster, DiffusionImputer] + [
        getattr(baselines, name) for name in baselines.__all__
    ]
    checked = 0
    for cls in classes:
        for name in OUTPUT_METHODS:
            method = getattr(cls, name, None)
            if method is None or not method.__module__.startswith("tsdiff"):
                continue
            tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
            in_source = ast.get_docstring(tree.body[0], clean=True)
            assert inspect.getdoc(method) == in_source, f"{cls.__name__}.{name}"
            checked += 1
    assert checked >= 4 * len(classes)
