"""Where the stack's sockets live, and how they are secured.

One stack is a name and a base port: the low-level node binds state (PUB), targets (SUB), control
(REP) and heartbeats (SUB) on base..base+3 and, in simulation, the simulator's pose (PUB) on
base+5; the perception node binds images (PUB) on base+4 and percepts (PUB) on base+6.
Loopback by default. A bind beyond loopback is refused unless CURVE keys are given: the binding
side is a CURVE server whose clients must hold a key from the keys folder (`bessemer keys DIR`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import zmq
import zmq.auth

ROLES = ("state", "targets", "control", "heartbeat", "image", "pose", "percept")


class EndpointError(ValueError):
    pass


@dataclass(frozen=True)
class Endpoints:
    stack: str = "bessemer"
    host: str = "127.0.0.1"
    base_port: int = 5560
    keys: Path | None = None
    """Folder made by `bessemer keys`: server.key(_secret) and client.key(_secret)."""
    curve: bool = False
    """CURVE on loopback too (it is always on beyond loopback)."""

    def __post_init__(self) -> None:
        if self.secure and self.keys is None:
            needs = "--curve" if self.curve else f"--host {self.host} (beyond loopback)"
            raise EndpointError(f"{needs} needs CURVE keys: create them with `bessemer keys DIR` and pass --keys DIR")

    def address(self, role: str, bind: bool) -> str:
        host = self.host if not bind or self.loopback else "*"
        return f"tcp://{host}:{self.base_port + ROLES.index(role)}"

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"

    @property
    def secure(self) -> bool:
        return self.curve or not self.loopback

    def check(self) -> None:
        if not self.secure:
            return
        for name in ("server.key_secret", "client.key_secret", "server.key"):
            if not (self.keys / name).is_file():
                raise EndpointError(f"CURVE key file {self.keys / name} is missing: create keys with `bessemer keys {self.keys}`")

    def bind(self, ctx: zmq.Context, kind: int, role: str) -> zmq.Socket:
        sock = ctx.socket(kind)
        sock.linger = 0
        if self.secure:
            public, secret = zmq.auth.load_certificate(self.keys / "server.key_secret")
            sock.curve_publickey, sock.curve_secretkey, sock.curve_server = public, secret, True
        try:
            sock.bind(self.address(role, bind=True))
        except zmq.ZMQError as exc:
            sock.close()
            raise EndpointError(f"cannot bind the {role} socket on {self.address(role, bind=True)}: {exc.strerror}; "
                                "another stack may be running there: stop it or choose another --base-port") from None
        return sock

    def connect(self, ctx: zmq.Context, kind: int, role: str, latest_only: bool = False) -> zmq.Socket:
        """With `latest_only`, a SUB keeps just the newest single-frame message (ZMQ CONFLATE)."""
        sock = ctx.socket(kind)
        sock.linger = 0
        if latest_only:
            sock.conflate = True
            sock.subscribe(b"")
        if self.secure:
            public, secret = zmq.auth.load_certificate(self.keys / "client.key_secret")
            server_public, _ = zmq.auth.load_certificate(self.keys / "server.key")
            sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = public, secret, server_public
        sock.connect(self.address(role, bind=False))
        return sock


def start_authenticator(ctx: zmq.Context, endpoints: Endpoints):
    """Accept only clients whose public key is in the keys folder (needed on a CURVE-serving node)."""
    if not endpoints.secure:
        return None
    from zmq.auth.thread import ThreadAuthenticator

    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(endpoints.keys))
    return auth


KEY_FILES = ("server.key", "server.key_secret", "client.key", "client.key_secret")


def create_keys(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("server", "client"):
        zmq.auth.create_certificates(folder, name)

