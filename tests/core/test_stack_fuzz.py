"""Fuzz the stack loader: any YAML document is a valid stack or one StackError, never a crash
and never a file written."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deployflow.errors import DeployflowError
from deployflow.loading import load_stack

scalars = st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=12)
docs = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["project", "apps", "paths", "root", "source", "vars", "services", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=docs)
def test_any_document_loads_or_is_one_clear_error(tmp_path: Path, doc: object) -> None:
    stack = tmp_path / "deployflow.yaml"
    stack.write_text(yaml.safe_dump(doc))
    root = tmp_path / "root"
    try:
        load_stack(stack, root, environ={}, persist_generated=False)
    except DeployflowError as exc:
        assert str(exc) and "\n" not in str(exc).strip()
    assert not root.exists()
