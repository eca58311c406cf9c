"""Public docstrings follow numpydoc's format, checked by numpydoc's own validation
on every public class, function and method (those whose examples
``test_docstring_examples.py`` runs)."""

import pytest
from test_docstring_examples import _public_objects

validate = pytest.importorskip("numpydoc.validate").validate

CHECKS = (
    # general layout: sections, their order, indentation, deprecations
    "GL01", "GL02", "GL03", "GL05", "GL06", "GL07", "GL08", "GL09", "GL10",
    # the summary line: present, capitalised, a sentence, one line of text
    "SS01", "SS02", "SS03", "SS04",
    # parameters: no unknown ones, types spelled as numpydoc does, descriptions
    # that are sentences
    "PR02", "PR05", "PR06", "PR08", "PR09", "PR10",
    # returns and yields
    "RT04", "RT05", "YD01",
    # See Also entries and examples
    "SA02", "SA03", "SA04", "EX01",
)  # fmt: skip
"""The numpydoc checks every public docstring passes. Still to be met everywhere:
PR01 (every parameter documented), RT01-RT03 (a Returns section with one type line
and a description), ES01 and SA01 (an extended summary and See Also everywhere)."""


def test_public_docstrings_pass_numpydoc_validation():
    problems = [
        f"{name}: {code} {message}"
        for name, _ in _public_objects()
        for code, message in validate(name)["errors"]
        if code in CHECKS
    ]
    assert len(_public_objects()) > 200  # the count when this test was written
    assert not problems, "\n".join(problems[:20])
