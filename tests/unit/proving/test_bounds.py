"""A failed smoke test's output that shows code written for an older release of a shipped
library gets the upper bound that brings it back, in the file that pins the library
(proving/bounds.py); any other failure gets none."""

from __future__ import annotations

from dataclasses import replace

import pytest

from wheelferry.proving.bounds import smoke_advice, smoke_bound
from wheelferry.proving.proof_facts import Facts

FACTS = Facts(
    environment={"numpy": "2.2.6", "pandas": "2.1.4", "wferryfx-buildhelper": "2.0"},
    providers={"numpy": "numpy", "pandas": "pandas",
               "wferryfx_buildhelper": "wferryfx-buildhelper"},
    inputs={"pandas": "requirements/science.in"},
    default_input="requirements/base.in",
)


@pytest.mark.parametrize(("output", "requirement", "said"), [
    ("AttributeError: module 'numpy' has no attribute 'bool'.\n`np.bool` was a deprecated alias",
     "numpy<1.24", "numpy 1.24 removed the alias np.bool"),
    ("  File \"x.py\", line 3\nAttributeError: module 'numpy' has no attribute 'object'",
     "numpy<1.24", "np.object"),
    ("AttributeError: module 'numpy' has no attribute 'float_'", "numpy<2",
     "numpy.float_ is gone from the installed release"),
    ("ValueError: Unable to avoid copy while creating an array as requested.", "numpy<2",
     "copy semantics"),
    ("ValueError: numpy.dtype size changed, may indicate binary incompatibility. Expected 96 "
     "from C header, got 88 from PyObject", "numpy<2", "dtype size changed"),
    ("AttributeError: module 'wferryfx_buildhelper' has no attribute 'bool'",
     "wferryfx-buildhelper<2", "wferryfx_buildhelper.bool is gone"),
])
def test_old_code_on_a_newer_library_gets_the_bound_to_add(output: str, requirement: str,
                                                           said: str) -> None:
    bound = smoke_bound(output, FACTS)
    assert bound is not None
    assert bound.requirement == requirement
    assert said in bound.cause
    cause, advice = smoke_advice(output, FACTS)
    assert advice == f"add '{requirement}' to requirements/base.in"
    assert cause == bound.cause


def test_a_bound_goes_to_the_file_that_pins_the_library_and_below_a_zero_major() -> None:
    facts = replace(FACTS, environment={**FACTS.environment, "oldlib": "0.9.1"},
                    providers={**FACTS.providers, "oldlib": "oldlib"},
                    inputs={"oldlib": "requirements/science.in"})
    assert smoke_advice("AttributeError: module 'oldlib.sub' has no attribute 'thing'",
                        facts)[1] == "add 'oldlib<0.9' to requirements/science.in"


def test_a_failure_that_no_bound_explains_gets_no_bound() -> None:
    for output in ("AssertionError: 2 != 3", "AttributeError: module 'collections' has no "
                   "attribute 'Mapping'", "ModuleNotFoundError: No module named 'x'"):
        assert smoke_bound(output, FACTS) is None, output
        cause, advice = smoke_advice(output, FACTS)
        assert cause == ""
        assert "the output above says why" in advice
