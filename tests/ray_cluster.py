"""A real Ray cluster of several nodes on this machine, started the way a user starts one.

Every node is a `ray start` (the head with `--head`, the others with `--address`), one CPU each,
with its own ports and a short temp dir of its own under /tmp (Ray's socket paths must fit 107 bytes,
which a test's nested folder may not), and token authentication on
(`RAY_AUTH_MODE=token` and a fresh token in `RAY_AUTH_TOKEN`, as every node and driver of a real
cluster need). All of it runs inside a network namespace that holds nothing but loopback: Ray
advertises 127.0.0.1 there (outside one, `ray start` replaces a given 127.0.0.1 by the machine's
network address) and binds every server to it, so no byte leaves the machine, and another
cluster on the machine is never reached. Drivers run in the namespace too (`Cluster.command`).

Each node's processes are found by the session that its `ray start` opened (raylet, GCS, agents,
client server, workers: none of Ray's processes starts a session of its own); `stop` ends them by
pid, then everything else left in the namespace, and the namespace's holder. Never `ray stop`,
never a kill by name: another cluster may be running on the machine.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
# How fast the head declares a silent node dead (Ray's defaults take about half a minute).
HEALTH_CHECKS = {"RAY_health_check_period_ms": "500", "RAY_health_check_failure_threshold": "4"}


def can_make_namespaces() -> bool:
    """Whether this process may create network and mount namespaces (root)."""
    return os.geteuid() == 0 and Path("/usr/bin/unshare").exists() and Path("/usr/bin/nsenter").exists()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Node:
    """One `ray start`: its session (the pid of the `ray start` that opened it) and its log."""

    session: int
    log: Path

    def pids(self) -> list[int]:
        """The node's live processes: every process of its session."""
        return [pid for pid in _live_pids() if _session_of(pid) == self.session]


@dataclass
class Cluster:
    """A head and worker nodes in a loopback-only network namespace under `root`."""

    root: Path
    token: str = field(default_factory=lambda: secrets.token_hex(32))
    port: int = field(default_factory=_free_port)
    nodes: list[Node] = field(default_factory=list)
    holder: subprocess.Popen | None = None
    ray_temp: Path | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        """What every node and driver of this cluster runs with."""
        return {
            **os.environ,
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": self.token,
            "RAY_USAGE_STATS_ENABLED": "0",
            **HEALTH_CHECKS,
        }

    def namespace(self) -> list[str]:
        """The prefix that runs a command in the cluster's network namespace."""
        assert self.holder is not None
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", "--"]

    def start(self, workers: int = 1) -> Cluster:
        """The namespace, the head and `workers` more nodes, one CPU each."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.ray_temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
        self.holder = subprocess.Popen(
            ["unshare", "--net", "--", "sh", "-c", "ip link set lo up && echo up && exec sleep infinity"],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.holder.stdout.readline().strip() == "up"
        self._ray_start(
            "head",
            [
                "--head",
                "--port",
                str(self.port),
                "--ray-client-server-port",
                str(_free_port()),
                "--include-dashboard",
                "false",
            ],
        )
        for _ in range(workers):
            self.add_node()
        return self

    def add_node(self, hide: Path | None = None) -> Node:
        """A worker node joining the head; with `hide`, one that sees an empty folder there instead
        (its own mount namespace with a fresh tmpfs over `hide`), as a machine without that storage."""
        prefix = []
        if hide is not None:
            hide.mkdir(parents=True, exist_ok=True)
            prefix = ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                      f'mount -t tmpfs tmpfs "{hide}" && exec "$0" "$@"']  # fmt: skip
        return self._ray_start(f"node{len(self.nodes)}", ["--address", self.address], prefix)

    def _ray_start(self, name: str, args: list[str], prefix: list[str] | None = None) -> Node:
        log = self.root / f"{name}.log"
        command = [
            *self.namespace(),
            *(prefix or []),
            RAY,
            "start",
            *args,
            "--node-ip-address",
            "127.0.0.1",
            "--num-cpus",
            "1",
            "--temp-dir",
            str(self.ray_temp),
            "--disable-usage-stats",
        ]
        with log.open("w") as out:
            started = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            node = Node(started.pid, log)
            self.nodes.append(node)
            if started.wait(timeout=120) != 0:
                raise RuntimeError(f"ray start {name} failed: {log.read_text()[-2000:]}")
        return node

    def command(self, argv: list[str], **kwargs) -> subprocess.Popen:
        """Start `argv` (a driver) in the cluster's namespace with its token, in a session of its own."""
        return subprocess.Popen([*self.namespace(), *argv], env=self.env, start_new_session=True, **kwargs)

    def listening(self) -> set[str]:
        """The addresses that sockets listen on in the cluster's namespace (IPv4 dotted, IPv6 hex)."""
        assert self.holder is not None
        found = set()
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{self.holder.pid}/net/{table}").read_text().splitlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A":  # LISTEN
                    found.add(_address(local.split(":")[0]))
        return found

    def kill_node(self, node: Node) -> list[int]:
        """Kill one node's processes (raylet, agents, workers) at once with SIGKILL; their pids."""
        pids = node.pids()
        for pid in pids:
            _signal(pid, signal.SIGKILL)
        _wait_dead(pids, 10.0)
        return pids

    def stop(self) -> None:
        """End every process the cluster started, by pid: each node's session, then whatever else is
        left in the namespace (drivers), then the holder; raise if any is still alive after."""
        if self.holder is None:
            return
        namespace = os.readlink(f"/proc/{self.holder.pid}/ns/net")
        mine = [p for n in self.nodes for p in n.pids()] + _in_namespace(namespace)
        mine = [p for p in dict.fromkeys(mine) if p != self.holder.pid]
        _end(mine)
        _end([self.holder.pid])
        self.holder.wait(timeout=10)
        left = [p for n in self.nodes for p in n.pids()] + _in_namespace(namespace)
        self.holder = None
        if self.ray_temp is not None:
            shutil.rmtree(self.ray_temp, ignore_errors=True)
        if left:
            raise RuntimeError(f"processes left behind by the test cluster: {left}")


def _address(hex_ip: str) -> str:
    """/proc/net/tcp's little-endian hex address as text (IPv4 mapped into IPv6 as IPv4)."""
    if len(hex_ip) == 32 and hex_ip[:24] == "0000000000000000FFFF0000":
        hex_ip = hex_ip[24:]
    if len(hex_ip) == 8:
        return socket.inet_ntop(socket.AF_INET, bytes.fromhex(hex_ip)[::-1])
    return hex_ip


def _live_pids() -> list[int]:
    """Processes that still run (zombies, which are dead but not yet reaped, left out)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _alive(int(entry)):
            pids.append(int(entry))
    return pids


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces


def _state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _session_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[3]) if fields else None


def _in_namespace(namespace: str) -> list[int]:
    found = []
    for pid in _live_pids():
        try:
            if os.readlink(f"/proc/{pid}/ns/net") == namespace:
                found.append(pid)
        except OSError:
            continue
    return found


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _alive(pid: int) -> bool:
    return _state(pid) not in ("Z", "X", None)


def _wait_dead(pids: list[int], timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)


def _end(pids: list[int], grace_s: float = 5.0) -> None:
    """SIGTERM, then SIGKILL to those still alive after `grace_s`."""
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    _wait_dead(pids, grace_s)
    for pid in pids:
        if _alive(pid):
            _signal(pid, signal.SIGKILL)
    _wait_dead(pids, grace_s)
