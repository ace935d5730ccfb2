"""Where %%e6sql connects: --connect over a profile over E6DATA_* variables; tokens stay secret."""
from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from e6magic.magic.command import ConnectRequest
from e6magic.magic.connections import Endpoint, profiles_path, resolve, with_token

PROFILES = """
[default]
host = "default.example"
port = 9000
username = "ana@example.com"
token = "tok-default-123"
catalog = "sales"
database = "public"

[prod]
host = "prod.example"
port = 443
secure = true
cluster_name = "c-prod"
password = "tok-prod-456"
"""


@pytest.fixture
def profiles(tmp_path):
    path = tmp_path / "connections.toml"
    path.write_text(PROFILES)
    return path


def test_nothing_configured_means_the_local_engine(tmp_path):
    assert resolve(None, None, profiles=tmp_path / "missing.toml", environ={}) is None


def test_default_profile(profiles):
    endpoint = resolve(None, None, profiles=profiles, environ={})
    assert endpoint == Endpoint(host="default.example", port=9000, username="ana@example.com",
                                token="tok-default-123", catalog="sales", database="public",
                                source="profile default")


def test_alias_takes_its_section_and_spellings(profiles):
    endpoint = resolve(None, "prod", profiles=profiles, environ={})
    assert (endpoint.host, endpoint.port, endpoint.secure, endpoint.cluster, endpoint.token) == \
        ("prod.example", 443, True, "c-prod", "tok-prod-456")


def test_environment_variables(tmp_path):
    env = {"E6DATA_HOST": "env.example", "E6DATA_PORT": "8080", "E6DATA_USERNAME": "u",
           "E6DATA_PASSWORD": "tok-env", "E6DATA_CATALOG": "c", "E6DATA_DATABASE": "d",
           "E6DATA_CLUSTER_NAME": "cl", "E6DATA_SECURE": "true"}
    endpoint = resolve(None, None, profiles=tmp_path / "none.toml", environ=env)
    assert endpoint == Endpoint(host="env.example", port=8080, username="u", token="tok-env", catalog="c",
                                database="d", cluster="cl", secure=True, source="environment")


def test_connect_options_override_the_profile(profiles):
    request = ConnectRequest(host="127.0.0.1", port=50051, token="tok-line")
    endpoint = resolve(request, None, profiles=profiles, environ={})
    assert (endpoint.host, endpoint.port, endpoint.token, endpoint.catalog) == ("127.0.0.1", 50051, "tok-line", "sales")


def test_unknown_alias_lists_the_known_ones(profiles):
    with pytest.raises(UsageError, match=r"no connection profile 'staging' in .*connections.toml \(profiles: default, prod\)\."):
        resolve(None, "staging", profiles=profiles, environ={})


def test_unknown_profile_key(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[default]\nhost = "h"\ntokn = "x"\n')
    with pytest.raises(UsageError, match=r"\[default\] has unknown key 'tokn'"):
        resolve(None, None, profiles=path, environ={})


def test_missing_token_is_asked_for_hidden_and_never_shown(tmp_path):
    endpoint = resolve(ConnectRequest(host="h", username="me"), None, profiles=tmp_path / "x.toml", environ={})
    asked = []
    filled = with_token(endpoint, ask=lambda prompt: asked.append(prompt) or "tok-typed-789")
    assert asked == ["e6data token for me@h: "]
    assert filled.token == "tok-typed-789"
    assert "tok-typed-789" not in repr(filled) and "tok-typed-789" not in filled.describe()


def test_empty_answer_opens_nothing(tmp_path):
    endpoint = resolve(ConnectRequest(host="h"), None, profiles=tmp_path / "x.toml", environ={})
    with pytest.raises(UsageError, match="no token given: connection not opened."):
        with_token(endpoint, ask=lambda prompt: "")


def test_profiles_path_order(monkeypatch, tmp_path):
    monkeypatch.setenv("E6MAGIC_PROFILES", str(tmp_path / "env.toml"))
    assert profiles_path("") == tmp_path / "env.toml"
    assert profiles_path(str(tmp_path / "cfg.toml")) == tmp_path / "cfg.toml"
    monkeypatch.delenv("E6MAGIC_PROFILES")
    assert profiles_path("").name == "connections.toml"


def test_closing_connections_closes_each_once_and_a_replaced_alias_is_closed(engine):
    from e6magic.magic.connections import Connections
    from e6magic.magic.session import connect_endpoint

    opened = []

    def connect(endpoint):
        opened.append(connect_endpoint(endpoint))
        return opened[-1]

    here = Endpoint(host=engine.host, port=engine.port, username="u", token=engine.token.reveal())
    connections = Connections(connect, start_engine=lambda: None)
    connections.open(here)
    first = connections.for_alias(here, "a")
    assert connections.for_alias(here, "a") is first  # same profile: kept
    second = connections.for_alias(
        Endpoint(host=engine.host, port=engine.port, username="v", token=engine.token.reveal()), "a")
    assert first.closed and not second.closed  # the alias's old connection is not left open on the engine
    connections._by_alias["b"] = (here, connections.current)  # one connection under two names
    connections.close()  # a second close() raises InterfaceError: each connection must be closed once
    assert all(c.closed for c in opened) and len(opened) == 3
    connections.close()  # nothing left: quiet
