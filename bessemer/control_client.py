"""Talking to a running stack's low-level node: FSM requests and status, over its REP socket."""

from __future__ import annotations

import json

import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints


class StackUnreachable(RuntimeError):
    pass


def _ask(endpoints: Endpoints, frames: list[bytes], timeout: float) -> list[bytes]:
    ctx = zmq.Context.instance()
    sock = endpoints.connect(ctx, zmq.REQ, "control")
    sock.rcvtimeo = int(timeout * 1000)
    try:
        sock.send_multipart(frames)
        return sock.recv_multipart()
    except zmq.Again:
        raise StackUnreachable(f"no stack {endpoints.stack!r} answers on {endpoints.address('control', bind=False)} "
                               f"within {timeout:g} s: is `bessemer run` running with the same --stack and "
                               "--base-port?") from None
    finally:
        sock.close(0)


def _decode(reply: list[bytes], endpoints: Endpoints, sid: int, kind: wire.MsgType | None = None) -> wire.Header:
    """The reply's header; a reply from a stack of another name says which name to pass."""
    try:
        return wire.decode(reply, sid, kind)
    except wire.WireError as exc:
        try:
            other = json.loads(reply[1]).get("stack")
        except (ValueError, IndexError, AttributeError):
            other = None
        where = endpoints.address("control", bind=False)
        if other and other != endpoints.stack:
            raise StackUnreachable(f"the stack on {where} is named {other!r}, not {endpoints.stack!r}: "
                                   f"pass --stack {other}") from None
        raise StackUnreachable(f"the stack on {where} answered with a message this client cannot read ({exc})") from None


def request_fsm(endpoints: Endpoints, state_id: int, timeout: float = 2.0) -> tuple[bool, int, str]:
    """(accepted, FSM state after the request, message)."""
    sid = wire.stack_id(endpoints.stack)
    if not 0 <= state_id <= 0xFFFF:
        return False, -1, f"unknown FSM state id {state_id}"
    reply = _ask(endpoints, [wire.header(wire.MsgType.FSM_REQUEST, sid, 1), wire.FSM_REQUEST.pack(state_id)], timeout)
    h = _decode(reply, endpoints, sid)
    if h.type != wire.MsgType.FSM_REPLY:
        raise StackUnreachable(f"the stack answered {json.loads(reply[1]).get('error', h.type.name)}")
    state, accepted = wire.FSM_REPLY.unpack(reply[1])
    return bool(accepted), state, reply[2].decode(errors="replace")


def request_status(endpoints: Endpoints, timeout: float = 2.0) -> dict:
    sid = wire.stack_id(endpoints.stack)
    reply = _ask(endpoints, [wire.header(wire.MsgType.STATUS_REQUEST, sid, 1)], timeout)
    _decode(reply, endpoints, sid, wire.MsgType.STATUS_REPLY)
    return json.loads(reply[1])
