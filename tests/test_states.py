"""One vocabulary of query states: the client's handles, the magic's outcomes and the widgets' traits agree."""
from __future__ import annotations

import json
import pathlib
import re

from e6magic.client import query
from e6magic.engine import queries as engine_queries
from e6magic.magic import session
from e6magic.states import FINAL_STATES, QueryState
from e6magic.widgets import _status


def test_each_state_is_its_word_in_comparisons_formatting_and_json():
    for state in QueryState:
        assert state == state.value and str(state) == f"{state}" == state.value
        assert json.loads(json.dumps({"state": state})) == {"state": state.value}


def test_client_magic_and_widgets_share_one_set_of_final_states():
    assert query.FINAL_STATES is session.FINAL is _status.FINAL_STATES is FINAL_STATES



def test_the_engine_speaks_the_one_vocabulary():
    assert engine_queries.FINAL_STATES is FINAL_STATES
    assert isinstance(engine_queries.Query("q", "s", "u", "SELECT 1", "demo", "main", "blue", 0).state, QueryState)


STATIC = pathlib.Path(_status.__file__).parent / "static"


def test_the_status_view_in_the_browser_knows_the_same_final_states():
    """status.js cannot import the enum: its list is read from the file and held to it."""
    source = (STATIC / "status.js").read_text(encoding="utf-8")
    found = re.findall(r"^const FINAL = new Set\(\[([^\]]*)\]\);$", source, re.MULTILINE)
    assert len(found) == 1, "status.js must declare its final states once, as `const FINAL = new Set([...]);`"
    assert set(json.loads(f"[{found[0]}]")) == {state.value for state in FINAL_STATES}
    # every state word the views style or compare with is one of the enum's (or the view's own "cancelling")
    words = set(re.findall(r"e6-state-([a-z]+)", source + (STATIC / "e6.css").read_text(encoding="utf-8")))
    words |= set(re.findall(r"state\s*[!=]==?\s*[\"']([a-z]+)[\"']", source))
    assert words <= {state.value for state in QueryState} | {"cancelling"}, words
