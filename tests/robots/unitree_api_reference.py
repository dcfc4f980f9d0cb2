"""An independent `unitree_api` RPC client, written from Unitree's IDL and SDK behaviour: its own
Request_/Response_ types (plain CycloneDDS dataclasses), a monotonic-ns request id, answers matched
by id and checked for the api id, as Unitree's ClientStub does."""

import json
import time
from dataclasses import dataclass, field

from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import annotations as annotate
from cyclonedds.idl import types
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic


@dataclass
@annotate.final
@annotate.autoid("sequential")
class RequestIdentity_(IdlStruct, typename="unitree_api.msg.dds_.RequestIdentity_"):
    id: types.int64 = 0
    api_id: types.int64 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class RequestLease_(IdlStruct, typename="unitree_api.msg.dds_.RequestLease_"):
    id: types.int64 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class RequestPolicy_(IdlStruct, typename="unitree_api.msg.dds_.RequestPolicy_"):
    priority: types.int32 = 0
    noreply: bool = False


@dataclass
@annotate.final
@annotate.autoid("sequential")
class RequestHeader_(IdlStruct, typename="unitree_api.msg.dds_.RequestHeader_"):
    identity: RequestIdentity_ = field(default_factory=RequestIdentity_)
    lease: RequestLease_ = field(default_factory=RequestLease_)
    policy: RequestPolicy_ = field(default_factory=RequestPolicy_)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class Request_(IdlStruct, typename="unitree_api.msg.dds_.Request_"):
    header: RequestHeader_ = field(default_factory=RequestHeader_)
    parameter: str = ""
    binary: types.sequence[types.byte] = field(default_factory=list)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class ResponseStatus_(IdlStruct, typename="unitree_api.msg.dds_.ResponseStatus_"):
    code: types.int32 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class ResponseHeader_(IdlStruct, typename="unitree_api.msg.dds_.ResponseHeader_"):
    identity: RequestIdentity_ = field(default_factory=RequestIdentity_)
    status: ResponseStatus_ = field(default_factory=ResponseStatus_)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class Response_(IdlStruct, typename="unitree_api.msg.dds_.Response_"):
    header: ResponseHeader_ = field(default_factory=ResponseHeader_)
    data: str = ""
    binary: types.sequence[types.byte] = field(default_factory=list)


TIMEOUT = 3104
API_MISMATCH = 3105


class ApiClient:
    def __init__(self, participant: DomainParticipant, service: str, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.writer = DataWriter(participant, Topic(participant, f"rt/api/{service}/request", Request_))
        self.reader = DataReader(participant, Topic(participant, f"rt/api/{service}/response", Response_),
                                 qos=Qos(Policy.History.KeepLast(1024)))

    def wait_for_server(self, seconds: float = 10.0) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.writer.get_matched_subscriptions() and self.reader.get_matched_publications():
                return True
            time.sleep(0.05)
        return False

    def send(self, api_id: int, parameter: str = "{}", noreply: bool = False) -> int:
        request = Request_(parameter=parameter)
        request.header.identity = RequestIdentity_(time.monotonic_ns(), api_id)
        request.header.policy.noreply = noreply
        self.writer.write(request)
        return request.header.identity.id

    def call(self, api_id: int, parameter: dict | str | None = None) -> tuple[int, str | None]:
        """(code, data) as Unitree's client returns them: 3104 on timeout, 3105 on a wrong api id."""
        text = parameter if isinstance(parameter, str) else json.dumps(parameter or {})
        request_id = self.send(api_id, text)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            for response in self.reader.take(N=64):
                if isinstance(response, Response_) and response.header.identity.id == request_id:
                    if response.header.identity.api_id != api_id:
                        return API_MISMATCH, None
                    return response.header.status.code, response.data
            time.sleep(0.005)
        return TIMEOUT, None
