"""Every example in a tsdiff docstring runs and prints what it shows."""

import doctest
import importlib
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
