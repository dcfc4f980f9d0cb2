"""Unitree's RPC over DDS: the `unitree_api` request and response types, and a server for one service.

A client writes `Request_` on rt/api/<service>/request and reads `Response_` on .../response,
matching its answer by `identity.id`; the server echoes the identity, puts a status code in the
header and the result (JSON, or for api 1 the service's version string) in `data`. Codes are
Unitree's: 0 ok, 3202 internal error, 3203 api not implemented, 3204 bad parameter. (No postponed
annotations here: CycloneDDS resolves the IDL field types from them at class creation.) Bytes are
`types.byte`, for the reason `robots.dds_transport` gives.

`RpcServer.poll()` never blocks: the 500 Hz loop calls it between ticks, it answers at most a few
requests each time and counts the rest as waiting, so a flood of requests cannot stall the loop.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cyclonedds.core import Policy, Qos
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import annotations as annotate
from cyclonedds.idl import types
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

from robots.dds_transport import DdsLink

OK = 0
INTERNAL_ERROR = 3202
NOT_IMPLEMENTED = 3203
BAD_PARAMETER = 3204
API_VERSION = 1
"""The api id every service answers with its version."""


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


Handler = Callable[[dict], tuple[int, dict | None]]
"""An api's handler: the request's JSON parameter in, (code, JSON-able result or None) out."""


class ServiceTaken(RuntimeError):
    pass


class ApiError(Exception):
    """Raised by a handler to answer with a Unitree code and no data."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(reason or str(code))
        self.code = code


@dataclass
class RpcCounters:
    answered: int = 0
    not_implemented: int = 0
    bad_parameter: int = 0
    refused: int = 0
    """Answered with a service's own error code (a state it cannot enter, an unknown id)."""
    internal_errors: int = 0
    by_api: dict[int, int] = field(default_factory=dict)


class RpcServer:
    def __init__(self, link: DdsLink, service: str, version: str, handlers: dict[int, Handler],
                 per_poll: int = 8, exclusive_after: float | None = None) -> None:
        """With `exclusive_after`, listen that many seconds first and refuse (ServiceTaken) if
        another server of `service` answers on the domain: two would both act on every request."""
        p = link.participant
        self.service, self.version, self.handlers, self.per_poll = service, version, handlers, per_poll
        responses = Topic(p, f"rt/api/{service}/response", Response_)
        if exclusive_after is not None:
            guard = DataReader(p, responses)
            time.sleep(exclusive_after)
            if guard.get_matched_publications():
                raise ServiceTaken(f"another {service!r} server already answers on DDS domain {link.domain_id}: "
                                   "stop it (on a G1, release Unitree's locomotion first) before Bessemer serves it")
        self._reader = DataReader(p, Topic(p, f"rt/api/{service}/request", Request_),
                                  qos=Qos(Policy.History.KeepLast(256)))
        self._writer = DataWriter(p, responses)
        self.counters = RpcCounters()

    def poll(self) -> int:
        """Answer up to `per_poll` waiting requests; return how many."""
        requests = [r for r in self._reader.take(N=self.per_poll) if isinstance(r, Request_)]
        for request in requests:
            code, data = self._answer(request)
            if not request.header.policy.noreply:
                response = Response_(data=data)
                response.header.identity = request.header.identity
                response.header.status.code = code
                self._writer.write(response)
        return len(requests)

    def _answer(self, request: Request_) -> tuple[int, str]:
        api = int(request.header.identity.api_id)
        c = self.counters
        c.by_api[api] = c.by_api.get(api, 0) + 1
        c.answered += 1
        if api == API_VERSION:
            return OK, self.version
        handler = self.handlers.get(api)
        if handler is None:
            c.not_implemented += 1
            return NOT_IMPLEMENTED, ""
        try:
            parameter = json.loads(request.parameter or "{}")
            if not isinstance(parameter, dict):
                raise ValueError("not an object")
        except ValueError:
            c.bad_parameter += 1
            return BAD_PARAMETER, ""
        try:
            code, result = handler(parameter)
        except ApiError as exc:
            if exc.code == BAD_PARAMETER:
                c.bad_parameter += 1
            else:
                c.refused += 1
            return exc.code, ""
        except Exception:
            c.internal_errors += 1
            return INTERNAL_ERROR, ""
        return code, "" if result is None or code != OK else json.dumps(result)
