"""Every example in a tsdiff docstring runs and prints what it shows."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

import tsdiff

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(tsdiff.__path__, prefix="tsdiff.")
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, "".join(report)


def test_the_examples_are_found():
    # The collection above must see the package's examples (a path change that
    # found none would make every case pass vacuously).
    finder = doctest.DocTestFinder()
    found = sum(
        len(test.examples)
        for name in MODULES
        for test in finder.find(importlib.import_module(name), name)
    )
    assert found >= 70  # the count when this test was written


INTERNAL = ("tsdiff.estimation",)
"""Packages of the library's own parts, not of its public API (the estimators)."""


def _public_objects():
    """``(name, object)`` of every public class, function and method: the names in
    each public module's ``__all__`` (constants and type aliases aside) and the
    methods those classes define or inherit from tsdiff."""
    seen, found = set(), []
    for name in ["tsdiff", *MODULES]:
        if any(part.startswith("_") for part in name.split(".")):
            continue
        if name.startswith(INTERNAL):
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if not callable(obj) or id(obj) in seen or attr.isupper():
                continue
            if getattr(obj, "__module__", "").split(".")[0] != "tsdiff":
                continue  # a type alias such as Denoise
            seen.add(id(obj))
            found.append((f"{name}.{attr}", obj))
            if isinstance(obj, type):
                for method in dir(obj):
                    static = inspect.getattr_static(obj, method)
                    func = getattr(obj, method)
                    owner = getattr(func, "__module__", "") or ""
                    if (
                        method.startswith("_")
                        or isinstance(static, property)
                        or not callable(func)
                        or owner.split(".")[0] != "tsdiff"
                    ):
                        continue
                    found.append((f"{name}.{attr}.{method}", func))
    return found


def test_every_public_object_shows_a_runnable_example():
    missing = [
        name for name, obj in _public_objects() if ">>>" not in (obj.__doc__ or "")
    ]
    assert not missing, missing
    assert len(_public_objects()) >= 150  # the walk finds the package's API
