"""The engine holds its token as a Secret: no repr, exception, log line or `%xmode Verbose` frame of the engine
shows it, and the one who started the engine can still read it (`engine.token.reveal()`, the CLI's one line)."""
from __future__ import annotations

import argparse
import logging
import socket
import sys

import grpc
import pytest
from IPython.core.ultratb import VerboseTB
from raw_client import Raw, rpc_error

from e6magic import connect
from e6magic._proto import cluster_pb2 as cpb
from e6magic._proto import cluster_pb2_grpc as cpb_grpc
from e6magic._proto import e6x_engine_pb2 as pb
from e6magic.engine import LocalEngine, cli
from e6magic.secret import Secret

TOKEN = "masked-engine-token-Hq7Lw2"
SHORT = "short-Xr5q"  # refused for its length, and still never to be shown


def verbose_text(exc: BaseException) -> str:
    """What `%xmode Verbose` prints for `exc` from the engine's frames on (each frame's variables), plus those
    frames' locals as repr (the caller's own frames hold the token it passed: not the engine's doing)."""
    tb = exc.__traceback__
    while tb is not None and "/e6magic/" not in tb.tb_frame.f_code.co_filename:
        tb = tb.tb_next
    assert tb is not None, "the failure was not raised inside the engine"
    text = VerboseTB(theme_name="nocolor", include_vars=True).text(type(exc), exc, tb)
    seen: list[str] = []
    while tb is not None:  # what %debug would show
        seen += [f"{tb.tb_frame.f_code.co_name}.{name} = {value!r}" for name, value in tb.tb_frame.f_locals.items()]
        tb = tb.tb_next
    return text + "\n".join(seen) + str(exc) + repr(exc.args)


def failure(make) -> BaseException:
    with pytest.raises(Exception) as info:
        make()
    return info.value


def test_no_failing_start_shows_the_token_in_a_verbose_traceback(engine):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        failures = [
            failure(lambda: LocalEngine(token=SHORT)),  # too short
            failure(lambda: LocalEngine(host="0.0.0.0", token=TOKEN)),  # no TLS on a non-loopback address
            failure(lambda: LocalEngine(token=TOKEN, tls_cert="/nonexistent.pem", tls_key="/nonexistent.key")),
            failure(lambda: LocalEngine(port=busy.getsockname()[1], token=TOKEN).start()),  # the port is taken
        ]
    assert [type(exc) for exc in failures] == [ValueError, ValueError, FileNotFoundError, OSError]
    texts = [verbose_text(exc) for exc in failures]
    assert all("token = Secret('***')" in text for text in texts[:3]), texts  # Verbose printed the locals, masked
    for text in texts:
        assert TOKEN not in text and SHORT not in text, text


def test_reprs_and_logs_of_a_running_engine_show_no_token(engine_factory, caplog):
    caplog.set_level(logging.DEBUG)
    eng = engine_factory(token=TOKEN)
    client = Raw(eng)
    cluster = cpb_grpc.ClusterServiceStub(client.channel)
    try:
        assert isinstance(eng.token, Secret) and eng.token.reveal() == TOKEN
        wrong = rpc_error(lambda: client.stub.authenticate(pb.AuthenticateRequest(user="u", password=TOKEN[:-1])))
        assert wrong.code() == grpc.StatusCode.UNAUTHENTICATED
        assert cluster.status(cpb.ClusterStatusRequest(user="u", password=TOKEN)).status == "active"
        with connect(host=eng.host, port=eng.port, username="u", password=eng.token) as conn:  # as it is
            cursor = conn.cursor()
            cursor.execute("SELECT 1 AS one")
            assert cursor.fetchall() == [(1,)]
        shown = [repr(eng), str(eng), repr(eng.token), f"{eng.token}", repr(eng._gate), repr(vars(eng)),
                 repr(vars(eng._gate)), wrong.details(), caplog.text]
        assert all(TOKEN not in text for text in shown), shown
    finally:
        client.close()


def test_the_cli_keeps_no_plain_copy_of_the_token_it_was_given(monkeypatch, tmp_path, capsys):
    args = argparse.Namespace(token=TOKEN, token_file=None)
    token = cli._token(args)
    assert isinstance(token, Secret) and token.reveal() == TOKEN
    assert TOKEN not in repr(args) and TOKEN not in capsys.readouterr().err  # warned, without the value
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    from_file = cli._token(argparse.Namespace(token=None, token_file=str(path)))
    monkeypatch.setenv("E6MAGIC_ENGINE_TOKEN", TOKEN)
    from_env = cli._token(argparse.Namespace(token=None, token_file=None))
    assert from_file == from_env == token
    assert TOKEN not in repr((from_file, from_env))


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
