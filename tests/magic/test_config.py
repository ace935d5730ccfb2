"""`%config E6Magic.*` options and their defaults from the nearest pyproject's [tool.e6magic]."""
from __future__ import annotations

import pytest
from traitlets.config import Config

from e6magic.magic.config import E6Magic, apply_pyproject, find_pyproject


def _project(tmp_path, body):
    (tmp_path / "pyproject.toml").write_text(body)
    nested = tmp_path / "notebooks" / "deep"
    nested.mkdir(parents=True)
    return nested


def test_nearest_pyproject_upward_sets_options(tmp_path):
    start = _project(tmp_path, '[tool.e6magic]\ndisplay_limit = 7\noutput = "arrow"\nshort_errors = false\n')
    config = E6Magic()
    assert find_pyproject(start) == tmp_path / "pyproject.toml"
    assert apply_pyproject(config, start) == {"display_limit": 7, "output": "arrow", "short_errors": False}
    assert (config.display_limit, config.output, config.short_errors) == (7, "arrow", False)


def test_kernel_config_wins_over_pyproject(tmp_path):
    start = _project(tmp_path, "[tool.e6magic]\ndisplay_limit = 7\nautolimit = 100\n")
    config = E6Magic(config=Config({"E6Magic": {"display_limit": 99}}))
    apply_pyproject(config, start)
    assert (config.display_limit, config.autolimit) == (99, 100)


def test_unknown_key_names_the_file_and_the_key(tmp_path):
    start = _project(tmp_path, "[tool.e6magic]\ndisplay_limt = 7\n")
    with pytest.raises(ValueError, match=r"pyproject.toml: unknown \[tool.e6magic\] option 'display_limt'"):
        apply_pyproject(E6Magic(), start)


def test_bad_value_is_one_line(tmp_path):
    start = _project(tmp_path, '[tool.e6magic]\noutput = "excel"\n')
    with pytest.raises(ValueError) as excinfo:
        apply_pyproject(E6Magic(), start)
    assert str(excinfo.value).startswith("[tool.e6magic] output = 'excel': ")
    assert "\n" not in str(excinfo.value)


def test_no_pyproject_changes_nothing(tmp_path):
    if find_pyproject(tmp_path) is not None:
        pytest.skip("a pyproject.toml sits above the temp folder")
    config = E6Magic()
    assert apply_pyproject(config, tmp_path) == {}
    assert config.display_limit == 50
