"""Every hook is documented (including what None means) and exercised by a test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from channel_engine import hookspecs

HOOKS = [
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "channel_engine_spec")
]
ROOT = Path(__file__).resolve().parents[2]


def test_there_are_hooks():
    assert {
        "register_channels",
        "validate_message",
        "build_payload",
        "normalize_report",
        "deliver_report",
    } <= set(HOOKS)


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_documented(name):
    doc = inspect.getdoc(getattr(hookspecs, name)) or ""
    assert len(doc) > 60, f"{name} needs a docstring that explains it"
    returns = inspect.signature(getattr(hookspecs, name)).return_annotation
    if "None" in str(returns) and str(returns) != "None":
        assert "None" in doc, f"{name} may return None: its docstring must say what None means"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name):
    tests = [
        *ROOT.glob("core/tests/test_*.py"),
        *ROOT.glob("plugins/*/tests/test_*.py"),
        *ROOT.glob("tests/test_*.py"),
    ]
    using = [t for t in tests if t.name != "test_hookspecs.py" and name in t.read_text()]
    assert using, f"no test exercises the {name} hook"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_in_the_readme(name):
    assert name in (ROOT / "README.md").read_text(), f"README.md does not document the {name} hook"
