"""A runner on a host of its own: a network namespace joined to this one by a veth pair, and a
private PostgreSQL server that listens on the host's end. The link can be cut, or only the
runner's established connections black-holed (a firewall that forgets flows while new
connections still pass). Needs root, `ip` and `iptables`."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

from sqlalchemy import make_url

from bt.db import Database
from bt.schema import upgrade
from tests import pgcluster


def missing() -> str | None:
    """Why partitions cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "iptables", "ss"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return pgcluster.server_available()


def _free_subnet() -> int:
    """The third byte of a 10.213.x.0/30 link: drawn from this pytest-xdist worker's own part
    of the range (so two workers never draw the same one), and not in use on this host."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    part = range(1 + worker % 4 * 60, 61 + worker % 4 * 60)
    used = _run("ip", "-o", "-4", "addr", "show")
    return random.choice([net for net in part if f"10.213.{net}." not in used])


def _run(*command: str) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


class Partition:
    """The namespace, its link, and the server both sides reach (`url` here, `ns_url` there)."""

    def __init__(self) -> None:
        tag = f"{random.randrange(1 << 24):06x}"
        self.ns, self.host_if, self.ns_if = f"btns{tag}", f"bth{tag}", f"btn{tag}"
        net = _free_subnet()
        self.host_ip, self.ns_ip = f"10.213.{net}.1", f"10.213.{net}.2"
        self._link()
        self.cluster = pgcluster.Cluster()
        env = {"PG_LISTEN": "*", "PG_HBA_EXTRA": f"host all all {self.ns_ip}/32 trust"}
        self.url = self.cluster.start(env)
        db = Database(self.url)
        upgrade(db)
        db.dispose()
        self.port = make_url(self.url).port
        self.ns_url = make_url(self.url).set(host=self.host_ip).render_as_string(False)

    def _link(self) -> None:
        _run("ip", "netns", "add", self.ns)
        _run("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
        _run("ip", "link", "set", self.ns_if, "netns", self.ns)
        _run("ip", "addr", "add", f"{self.host_ip}/30", "dev", self.host_if)
        _run("ip", "link", "set", self.host_if, "up")
        self.inside("ip", "addr", "add", f"{self.ns_ip}/30", "dev", self.ns_if)
        self.inside("ip", "link", "set", self.ns_if, "up")
        self.inside("ip", "link", "set", "lo", "up")

    def inside(self, *command: str) -> str:
        """Run `command` in the namespace."""
        return _run("ip", "netns", "exec", self.ns, *command)

    def program(self) -> list[str]:
        """How a runner is started in the namespace."""
        return ["ip", "netns", "exec", self.ns, sys.executable, "-m", "bt.cli.runner"]

    def cut(self) -> None:
        """Take the link down: nothing passes either way."""
        _run("ip", "link", "set", self.host_if, "down")

    def heal(self) -> None:
        """Bring the link back, and forget every black hole."""
        _run("ip", "link", "set", self.host_if, "up")
        self.inside("iptables", "-F")

    def black_hole(self) -> list[int]:
        """Drop every packet of the namespace's established connections to the server, both
        ways; new connections still pass. The local ports black-holed."""
        listing = self.inside("ss", "-Htn", "state", "established", "dst", self.host_ip)
        ports = [int(line.split()[-2].rsplit(":", 1)[1]) for line in listing.splitlines()]
        for port in ports:
            self.inside("iptables", "-I", "OUTPUT", "-p", "tcp", "--sport", str(port), "-j", "DROP")
            self.inside("iptables", "-I", "INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP")
        return ports

    def close(self) -> None:
        self.cluster.stop()
        subprocess.run(["ip", "netns", "del", self.ns], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", self.host_if], check=False, capture_output=True)
