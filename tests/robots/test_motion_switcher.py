"""Releasing Unitree's motion service, against a responder that speaks the motion_switcher RPC over DDS."""

import json
import threading

import pytest
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

from robots.dds_transport import DdsLink
from robots.motion_switcher import (CHECK_MODE, RELEASE_MODE, MotionServiceError, Request_, Response_,
                                    release_motion_service)


class FakeMotionSwitcher:
    """Answers CheckMode with the active mode's name and clears it on ReleaseMode, as the G1 does."""

    def __init__(self, domain, mode="ai"):
        p = DdsLink(domain, "lo").participant
        self.reader = DataReader(p, Topic(p, "rt/api/motion_switcher/request", Request_))
        self.writer = DataWriter(p, Topic(p, "rt/api/motion_switcher/response", Response_))
        self.mode = mode
        self.calls = []
        self.running = True
        self.thread = threading.Thread(target=self.serve)
        self.thread.start()

    def serve(self):
        while self.running:
            for request in self.reader.take(N=16):
                if not isinstance(request, Request_):
                    continue
                api = request.header.identity.api_id
                self.calls.append(api)
                if api == RELEASE_MODE:
                    self.mode = ""
                response = Response_(data=json.dumps({"name": self.mode}) if api == CHECK_MODE else "")
                response.header.identity = request.header.identity
                self.writer.write(response)
            threading.Event().wait(0.005)

    def stop(self):
        self.running = False
        self.thread.join()


def test_release_asks_until_no_mode_is_active(dds_domain):
    service = FakeMotionSwitcher(dds_domain)
    said = []
    try:
        release_motion_service(dds_domain, "lo", said.append)
    finally:
        service.stop()
    assert service.calls[0] == CHECK_MODE and RELEASE_MODE in service.calls and service.calls[-1] == CHECK_MODE
    assert service.mode == ""
    assert "runs mode 'ai': releasing it" in said[0] and said[-1] == "motion service released"


def test_no_motion_service_says_what_to_do_by_hand(dds_domain):
    with pytest.raises(MotionServiceError, match=f"no answer.*is a G1 on domain {dds_domain} via lo.*debug mode"):
        release_motion_service(dds_domain, "lo", print)
