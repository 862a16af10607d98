"""`brownthrower web [--bind HOST:PORT]`: serve the read-only dashboard of the database.

    brownthrower web                      # http://127.0.0.1:8080, a login URL printed
    brownthrower web --bind 127.0.0.1:0   # any free port: the printed URL says which

It binds to loopback unless told otherwise, and every request needs the token of the login URL
it prints (`BT_WEB_TOKEN` fixes the token, for scripts); a non-loopback address is served with a
warning, still behind the token. The database URL is never printed nor shown in a page.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import secrets
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from bt.cli.common import RET_OK, add_common_arguments, run_main, settings_from, setup_logging

PROGRAM = "brownthrower web"
DEFAULT_BIND = "127.0.0.1:8080"
TOKEN_VARIABLE = "BT_WEB_TOKEN"  #: a fixed token instead of a random one (scripts, tests)
MIN_TOKEN = 16  #: characters a fixed token needs at least


def bind_address(text: str) -> tuple[str, int]:
    """An argparse `type`: `HOST:PORT` (`[::1]:8080` for IPv6), port 0 for any free one."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:8080)")
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Serve a live, read-only web dashboard of the database: jobs, graphs, "
        "runners, statistics. Prints a one-time login URL; every request needs its token.",
    )
    parser.add_argument(
        "--bind",
        type=bind_address,
        default=bind_address(DEFAULT_BIND),
        metavar="HOST:PORT",
        help=f"address to listen on (default {DEFAULT_BIND}; port 0: any free port). Other "
        "than loopback, anyone who can reach it may try the token: prefer an SSH tunnel",
    )
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also accept requests naming this host (a DNS name of this machine); loopback "
        "names and the bound address are always accepted",
    )
    parser.add_argument(
        "--dispatcher-dir",
        type=Path,
        metavar="DIR",
        help="where dispatchers keep their state (their --state-dir), for the dispatchers page",
    )
    add_common_arguments(parser)
    return parser


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on `host:port` (the port chosen by the system when 0)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio: TCP_NODELAY
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(
            f"{PROGRAM}: error: cannot listen on {host}:{port}: {exc.strerror}"
        ) from exc
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def token() -> str:
    """The token every request needs: `BT_WEB_TOKEN`, or a new random one."""
    fixed = os.environ.get(TOKEN_VARIABLE, "")
    if fixed and len(fixed) < MIN_TOKEN:
        raise SystemExit(f"{PROGRAM}: error: {TOKEN_VARIABLE} needs {MIN_TOKEN} characters or more")
    return fixed or secrets.token_urlsafe(32)


def url_host(host: str) -> str:
    """`host` as written in a URL: `[::1]`; a wildcard address as 127.0.0.1."""
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bt import Brownthrower
    from web.security import allowed_hosts
    from web.server import create_app

    host, port = args.bind
    secret = token()
    app = Brownthrower.open(settings=settings_from(args), program="brownthrower-web")
    sock = listen(host, port)
    port = sock.getsockname()[1]
    hosts = allowed_hosts(host, args.allow_host)
    server = create_app(app, token=secret, hosts=hosts, dispatcher_dir=args.dispatcher_dir)
    if not is_loopback(host):
        print(f"{PROGRAM}: warning: listening on {host}, not loopback: anyone who can reach "
              "this port can try the token; an SSH tunnel to 127.0.0.1 is safer",
              file=sys.stderr)  # fmt: skip
    base = f"http://{url_host(host)}:{port}"
    config = uvicorn.Config(server, log_level="warning", access_log=False, server_header=False,
                            timeout_graceful_shutdown=2, lifespan="on")  # fmt: skip
    try:  # from the first word printed: a Ctrl-C at any moment ends the program cleanly
        print(f"{PROGRAM}: serving {base}/ (read-only; Ctrl-C stops)", flush=True)
        print(f"Open this link to log in: {base}/login?token={secret}", flush=True)
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn raises Ctrl-C again once it has stopped: how it ends
        pass
    finally:
        sock.close()
        app.close()
    return RET_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `brownthrower web`."""
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    return run_main(PROGRAM, lambda: serve(args))
