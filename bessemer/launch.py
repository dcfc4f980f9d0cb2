"""`bessemer run`: start every node, watch them, and bring the robot to damp before leaving.

The launcher is a supervisor, not part of the control path: the 500 Hz loop lives in the
low-level node. Nodes run in their own sessions, so a Ctrl-C reaches the launcher alone and the
shutdown keeps its order (damp, then stop); a node whose launcher vanishes stops by itself. It checks the ports first, starts the low-level node and waits until it answers,
then the policy and perception nodes; it scripts FSM requests, shows a live status line, and on
Ctrl-C or the death of any node asks the low-level node to damp before stopping everything. A task
that ends by itself (the intercept) ends the hold, and its judge is taken before the damp.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bessemer.control_client import StackUnreachable, request_fsm, request_status
from bessemer.endpoints import ROLES, EndpointError, Endpoints
from bessemer.tasks.intercept_watch import InterceptWatch
from control.fsm import POSE_OF_STATE, FsmId


@dataclass
class LaunchConfig:
    endpoints: Endpoints
    node_args: list[str]
    """How the low-level node reaches its robot (--sim options or --iface ...)."""
    sequence: tuple[FsmId, ...] = (FsmId.STAND_UP, FsmId.START)
    hold: float = 1.0
    duration: float = 0.0
    """Seconds to run after the sequence; 0 runs until Ctrl-C."""
    perception: bool = True
    variant: str = "29dof"
    policy_rate: float = 50.0
    policy: str = "wave"
    """`wave` (stand and wave an arm) or a learned policy's file."""
    command: str = "0,0,0"
    target_deadline_ms: float = 50.0
    follow_sound: int | None = None
    """Scene seed of the follow-sound task: perception hears its ball, the policy steers to it."""
    intercept: int | None = None
    """Scene seed of the intercept task: perception rolls and sees its ball, the policy walks to where it stops."""
    events: list[str] = field(default_factory=list)


NODE_START_S = 60.0
"""Longest wait for the policy node's first heartbeat (and the perception node's, when a scene needs it)
before state 200 is requested: loading torch and the policy beside a perception node on a busy 2-core
machine took over 15 s (the run then refused 200)."""

def check_ports_free(endpoints: Endpoints) -> None:
    host = "0.0.0.0" if not endpoints.loopback else endpoints.host
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for role in ROLES:
        port = endpoints.base_port + ROLES.index(role)
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError:
                raise EndpointError(f"port {port} ({role}) on {host} is in use: another stack or program holds it; "
                                    "stop it or pass another --base-port") from None


class Launcher:
    def __init__(self, config: LaunchConfig, say: Callable[[str], None], show: Callable[[dict], None]) -> None:
        self.config = config
        self.say = say
        self.show = show
        self.procs: dict[str, subprocess.Popen] = {}
        self.died: str | None = None
        self.watch = InterceptWatch(config.intercept) if config.intercept is not None else None

    def _stack_args(self) -> list[str]:
        e = self.config.endpoints
        args = ["--stack", e.stack, "--host", e.host, "--base-port", str(e.base_port)]
        return args + (["--keys", str(e.keys)] if e.keys else []) + (["--curve"] if e.curve else [])

    def _start(self, kind: str, *extra: str) -> None:
        cmd = [sys.executable, "-m", "bessemer", "node", kind, *self._stack_args(), *extra]
        self.procs[kind] = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                            start_new_session=True)

    def start(self) -> None:
        """Start the nodes; if any step fails, stop what was started before raising."""
        try:
            self._start_nodes()
        except BaseException:
            self.shutdown()
            raise

    def _start_nodes(self) -> None:
        e = self.config.endpoints
        e.check()
        check_ports_free(e)
        self._start("lowlevel", *self.config.node_args)
        deadline = time.monotonic() + 30
        while True:
            self._check_alive()
            try:
                request_status(e, timeout=0.5)
                break
            except StackUnreachable:
                if time.monotonic() > deadline:
                    raise
        self.say("low-level node up")
        policy = ["--rate", str(self.config.policy_rate)] if self.config.policy == "wave" else ["--variant", self.config.variant]
        sound, ball = self.config.follow_sound, self.config.intercept
        task = ["--follow-sound"] if sound is not None else ["--intercept"] if ball is not None else []
        scene = (["--scene-seed", str(sound)] if sound is not None
                 else ["--intercept-scene", str(ball)] if ball is not None else [])
        self._start("policy", *policy, "--policy", self.config.policy, "--cmd", self.config.command,
                    "--target-deadline", str(self.config.target_deadline_ms), *task)
        if self.config.perception:
            self._start("perception", "--variant", self.config.variant, *scene)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                err = proc.stderr.read().strip().splitlines() if proc.stderr else []
                self.died = f"{name} node exited ({proc.returncode})" + (f": {err[-1]}" if err else "")
                raise NodeDied(self.died)

    def _wait(self, until: Callable[[dict], bool], timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            status = request_status(self.config.endpoints)
            self.show(status)
            if until(status) or time.monotonic() > deadline:
                return status
            time.sleep(0.1)

    def run_sequence(self) -> None:
        e = self.config.endpoints
        for target in self.config.sequence:
            if target == FsmId.START:
                self._wait_for_nodes()
            accepted, _, message = request_fsm(e, int(target))
            self.say(f"request {int(target)}: {message}")
            if not accepted:
                raise SequenceRefused(message)
            settled = self._wait(lambda s: s["fsm"]["state"] == target and (
                target not in POSE_OF_STATE or s["fsm"]["pose_reached"]), 20)
            if settled["fsm"]["state"] != target:
                raise SequenceRefused(f"state {int(target)} not held: {settled['fsm']['last_fault']}")
            self._wait(lambda s: False, self.config.hold)

    def _wait_for_nodes(self) -> None:
        """A scene's ball is pushed at the hand-over: hand over only once the node that rolls and sees it runs."""
        scene = self.config.perception and (self.config.intercept is not None or self.config.follow_sound is not None)
        ready = self._wait(lambda s: s["fsm"]["policy_allowed"] and (not scene or "perception" in s["nodes"]),
                           NODE_START_S)
        if scene and "perception" not in ready["nodes"]:
            raise SequenceRefused(f"the perception node has not reported in {NODE_START_S:.0f} s: the scene would "
                                  "go unseen, so the robot is not handed to the policy")

    def hold(self) -> None:
        """Hold for the duration (until Ctrl-C without one), or until the task is over."""
        over = self.watch.over if self.watch is not None else (lambda s: False)
        self._wait(over, self.config.duration if self.config.duration else float("inf"))

    def shutdown(self) -> dict | None:
        """Damp first, then stop the nodes; returns the last status seen."""
        status = None
        if "lowlevel" in self.procs and self.procs["lowlevel"].poll() is None:
            try:
                request_fsm(self.config.endpoints, int(FsmId.DAMP))
                self.say("robot damped")
                status = request_status(self.config.endpoints)
            except StackUnreachable as exc:
                self.say(str(exc))
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(2)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        return status


class NodeDied(RuntimeError):
    pass


class SequenceRefused(RuntimeError):
    pass
