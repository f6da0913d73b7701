"""Show full before/after differences from the helpers' assertions."""

import pytest

pytest.register_assert_rewrite("tests.codemods._helpers")
