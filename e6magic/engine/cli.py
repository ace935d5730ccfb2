"""`e6magic-engine serve`: run the local engine until SIGINT or SIGTERM."""
from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import time

from e6magic.engine.allocator import keep_freed_memory
from e6magic.engine.queries import DEFAULT_CHUNK_ROWS, DEFAULT_RESULT_IDLE_SECONDS, DEFAULT_SESSION_IDLE_SECONDS
from e6magic.engine.server import LocalEngine
from e6magic.secret import Secret, masked

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", re.IGNORECASE)


def byte_size(text: str) -> int:
    """`512MB`, `2GiB`, `1.5G` or a number of bytes (units are powers of 1024)."""
    match = _SIZE.fullmatch(text)
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (say e.g. 512MB or 2GiB)")
    return int(float(match.group(1)) * 1024 ** " kmgt".index(match.group(2).lower() or " "))


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="e6magic-engine", description="A local e6data engine over DuckDB.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the e6data protocol on host:port")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default: loopback only; any other needs TLS or --insecure-bind)")
    serve.add_argument("--port", type=int, default=50051)
    serve.add_argument("--token", default=None,
                       help="the token clients send as password, at least 16 characters; other users of this "
                            "machine can read a command line: prefer --token-file or $E6MAGIC_ENGINE_TOKEN "
                            "(default: generated and printed once)")
    serve.add_argument("--token-file", default=None, metavar="FILE", help="read the token from FILE's first line")
    serve.add_argument("--tls-cert", default=None, metavar="PEM", help="serve TLS with this certificate (chain)")
    serve.add_argument("--tls-key", default=None, metavar="PEM", help="the private key of --tls-cert")
    serve.add_argument("--insecure-bind", action="store_true",
                       help="serve a non-loopback --host without TLS (tokens and results in plain text)")
    serve.add_argument("--data", default=None, metavar="DIR", help="DIR/<catalog>/<schema>/<table>.parquet|csv")
    serve.add_argument("--no-demo", action="store_true", help="do not generate the demo catalog")
    serve.add_argument("--bluegreen-interval", type=float, default=None, metavar="S",
                       help="flip the serving colour (blue/green) every S seconds")
    serve.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows per result chunk")
    serve.add_argument("--allow-host-files", action="store_true",
                       help="let SQL read and write any file this user can (read_csv, COPY TO, ATTACH, INSTALL); "
                            "by default only the --data folder is readable")
    serve.add_argument("--session-idle", type=seconds, default=DEFAULT_SESSION_IDLE_SECONDS, metavar="S",
                       help="a session with no call for S seconds expires, and its queries are dropped "
                            f"(default: {DEFAULT_SESSION_IDLE_SECONDS:g})")
    serve.add_argument("--result-idle", type=seconds, default=DEFAULT_RESULT_IDLE_SECONDS, metavar="S",
                       help="a query nobody fetched or asked about for S seconds is dropped "
                            f"(default: {DEFAULT_RESULT_IDLE_SECONDS:g})")
    serve.add_argument("--max-result-memory", type=byte_size, default=None, metavar="SIZE",
                       help="memory all held results may take together, e.g. 2GiB; a query whose result would pass "
                            "it fails (default: a quarter of this machine's memory)")
    serve.add_argument("--return-freed-memory", action="store_true",
                       help="give freed memory back to the system at once (glibc's default): a smaller process, "
                            "slower results")
    return parser


def _token(args: argparse.Namespace) -> Secret | None:
    """The token asked for, masked at once; `args` keeps no copy of it (a Namespace's repr shows its fields)."""
    given, args.token = masked(args.token), None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as file:
            return masked(file.readline().strip() or None)
    if given:
        print("e6magic-engine: warning: --token is readable by other users of this machine (ps, /proc); "
              "prefer --token-file or $E6MAGIC_ENGINE_TOKEN", file=sys.stderr)
        return given
    return masked(os.environ.get("E6MAGIC_ENGINE_TOKEN") or None)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.chunk_rows < 1:
        print("e6magic-engine: --chunk-rows must be at least 1", file=sys.stderr)
        return 2
    try:
        token = _token(args)
    except OSError as exc:
        print(f"e6magic-engine: cannot read --token-file: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if not args.return_freed_memory:
        keep_freed_memory()  # this process is only the engine
    try:
        engine = LocalEngine(host=args.host, port=args.port, token=token, data_dir=args.data, demo=not args.no_demo,
                             chunk_rows=args.chunk_rows, bluegreen_interval=args.bluegreen_interval,
                             allow_host_files=args.allow_host_files, session_idle=args.session_idle,
                             result_idle=args.result_idle, max_result_memory=args.max_result_memory,
                             tls_cert=args.tls_cert, tls_key=args.tls_key, insecure_bind=args.insecure_bind)
    except (ValueError, OSError) as exc:
        print(f"e6magic-engine: {exc}", file=sys.stderr)
        return 2
    try:
        engine.start()
    except (OSError, RuntimeError, FileNotFoundError) as exc:
        print(f"e6magic-engine: {exc}", file=sys.stderr)
        return 1
    # The handler only records the signal: taking a lock in it (Event.set) can deadlock with the main thread
    # that holds the same lock inside Event.wait, so the main thread polls instead.
    signalled: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, _frame: signalled.append(signum))
    print(f"e6magic engine listening on {engine.address}{' (TLS)' if engine.secure else ''}", flush=True)
    if token is None:  # shown once, so the one who started it can connect; never logged anywhere else
        print(f"token: {engine.token.reveal()}", flush=True)
    while not signalled:
        time.sleep(0.1)
    engine.stop()
    print("e6magic engine stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
