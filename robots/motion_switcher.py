"""Releasing Unitree's own motion service before a low-level program takes the G1 over.

While Unitree's locomotion runs it publishes rt/lowcmd itself; a second publisher fights it and the
joints jitter. The `motion_switcher` service answers CheckMode (1001) with the active mode's name
and ReleaseMode (1003) stops it; this asks until the name is empty. RPC goes over DDS with
Unitree's `unitree_api` request and response types (`robots.unitree_rpc`).
"""

import json
import random
import time
from collections.abc import Callable

from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

from robots.dds_transport import DdsLink
from robots.unitree_rpc import Request_, RequestIdentity_, Response_

SERVICE = "motion_switcher"
CHECK_MODE = 1001
RELEASE_MODE = 1003
DEBUG_MODE_STEPS = (
    "with the robot hanging on its gantry or lying down, damp it (L2+B on the remote), then enter debug mode "
    "(L2+R2) so Unitree's locomotion stops publishing rt/lowcmd, and run this command again"
)


class MotionServiceError(RuntimeError):
    pass


class MotionSwitcherClient:
    def __init__(self, link: DdsLink, timeout: float = 2.0) -> None:
        self.timeout = timeout
        p = link.participant
        self._writer = DataWriter(p, Topic(p, f"rt/api/{SERVICE}/request", Request_))
        self._reader = DataReader(p, Topic(p, f"rt/api/{SERVICE}/response", Response_))

    def call(self, api_id: int, parameter: dict | None = None) -> Response_:
        request_id = random.getrandbits(62)
        request = Request_(parameter=json.dumps(parameter or {}))
        request.header.identity = RequestIdentity_(request_id, api_id)
        deadline = time.monotonic() + self.timeout
        next_send = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_send:
                self._writer.write(request)
                next_send = time.monotonic() + 0.5
            for response in self._reader.take(N=16):
                if isinstance(response, Response_) and response.header.identity.id == request_id:
                    return response
            time.sleep(0.01)
        raise MotionServiceError(f"no answer from Unitree's {SERVICE} service within {self.timeout:g} s")

    def active_mode(self) -> str:
        response = self.call(CHECK_MODE)
        if response.header.status.code != 0:
            raise MotionServiceError(f"{SERVICE} CheckMode failed with code {response.header.status.code}")
        return json.loads(response.data or "{}").get("name", "")


def release_motion_service(domain: int, interface: str, say: Callable[[str], None], attempts: int = 5) -> None:
    """Stop Unitree's locomotion so this program may publish rt/lowcmd; say what happens."""
    link = DdsLink(domain, interface)
    client = MotionSwitcherClient(link)
    try:
        mode = client.active_mode()
    except MotionServiceError as exc:
        raise MotionServiceError(f"{exc}: is a G1 on domain {domain} via {interface}? If it is, {DEBUG_MODE_STEPS}") from None
    if not mode:
        say(f"Unitree's motion service is released (no active mode on domain {domain} via {interface})")
        return
    say(f"Unitree's motion service runs mode {mode!r}: releasing it (the robot must be hanging or lying down)")
    for _ in range(attempts):
        client.call(RELEASE_MODE)
        time.sleep(0.5)
        if not client.active_mode():
            say("motion service released")
            return
    raise MotionServiceError(f"Unitree's motion service still runs mode {mode!r} after {attempts} releases: {DEBUG_MODE_STEPS}")
