"""One vocabulary of query states: the client's handles, the magic's outcomes and the widgets' traits agree."""
from __future__ import annotations

import json

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
    assert set(FINAL_STATES) == set(engine_queries.FINAL_STATES)  # the engine's own words, over the wire

