"""CycloneDDS plumbing for `unitree_hg`: domain configuration, topics, raw-byte readers and writers.

Topics are created with IDL types generated from the codec's field tables, so their type
information matches Unitree's own definitions exactly and real peers match them; samples then go
through the wire as bytes the project's codec made (no per-field Python serializer per message).

A byte is declared `octet` (XTypes TK_BYTE), never `uint8`: CycloneDDS 11 describes `uint8` as
XTypes 1.3's TK_UINT8, which the 0.10 line (Unitree's SDK, the G1's own services) does not know
and dereferences NULL on when it discovers such a participant. As `octet`, the TypeInformation
and TypeObjects are byte-identical to those a 0.10 peer computes from Unitree's definitions, and
the wire bytes are unchanged.

CycloneDDS may pick a non-multicast interface, or refuse multicast on `lo`, and then silently
deliver nothing, so the interface is always named. On `lo`, Unitree's SDK (CycloneDDS 0.10, its own
XML: `lo`, multicast "default", no peers) discovers over multicast when `lo` has the MULTICAST flag
and otherwise falls back to unicast on 127.0.0.1 with participant indices; Bessemer's `lo`
configuration does both (multicast where it works, 127.0.0.1 peers and automatic indices), so the
SDK meets it unmodified whatever the flag. On a robot's wired interface, discovery is multicast.
"""

from __future__ import annotations

import socket
from pathlib import Path
from collections.abc import Iterator
from functools import cache
from typing import Protocol

from cyclonedds.core import Qos, Policy
from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.idl import make_idl_struct
from cyclonedds.idl import annotations as annotate
from cyclonedds.idl import types
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds._clayer import ddspy_take, ddspy_write
from cyclonedds.core import SampleState, ViewState, InstanceState

from robots import unitree_go as go
from robots import unitree_hg as hg

LOW_CMD_TOPIC = "rt/lowcmd"
LOW_STATE_TOPIC = "rt/lowstate"
_PRIMITIVES = {"u1": types.byte, "u4": types.uint32, "f4": types.float32, "i2": types.int16, "i4": types.int32}
_STRUCT_NAMES = {hg.MOTOR_CMD: "unitree_hg.msg.dds_.MotorCmd_", hg.LOW_CMD: "unitree_hg.msg.dds_.LowCmd_",
                 hg.IMU_STATE: "unitree_hg.msg.dds_.IMUState_", hg.MOTOR_STATE: "unitree_hg.msg.dds_.MotorState_",
                 hg.LOW_STATE: "unitree_hg.msg.dds_.LowState_", go.TIME_SPEC: "unitree_go.msg.dds_.TimeSpec_",
                 go.IMU_STATE: "unitree_go.msg.dds_.IMUState_", go.PATH_POINT: "unitree_go.msg.dds_.PathPoint_",
                 go.SPORT_MODE_STATE: "unitree_go.msg.dds_.SportModeState_"}
_ANY_SAMPLE = SampleState.Any | ViewState.Any | InstanceState.Any


@cache
def idl_type(table: tuple) -> type:
    """The CycloneDDS IDL type of a field table: @final, sequential ids, Unitree's type name."""
    fields = {}
    for name, kind, count in table:
        base = idl_type(kind) if isinstance(kind, tuple) else _PRIMITIVES[kind]
        fields[name] = types.array[base, count] if count > 1 else base
    typename = _STRUCT_NAMES[table]
    name = typename.rsplit(".", 1)[1]
    return annotate.autoid("sequential")(annotate.final(make_idl_struct(name, typename, fields)))


def interface_names() -> list[str]:
    return [name for _, name in socket.if_nameindex()]


def check_interface(name: str) -> None:
    if name not in interface_names():
        raise ValueError(f"network interface {name!r} does not exist on this machine; "
                         f"available: {', '.join(interface_names())} (the G1 is usually on the wired one)")


IFF_MULTICAST = 0x1000


def loopback_multicast_hint(interface: str) -> str | None:
    """What to tell a user whose `lo` lacks the MULTICAST flag (Linux's default): Bessemer meets
    Unitree's SDK either way, but CycloneDDS 0.10 then has only participant indices 0-9 on `lo`."""
    if interface != "lo":
        return None
    try:
        flags = int(Path("/sys/class/net/lo/flags").read_text(), 16)
    except (OSError, ValueError):
        return None
    if flags & IFF_MULTICAST:
        return None
    return ("lo has no MULTICAST flag: Unitree's SDK still meets Bessemer, but no more than ten DDS processes "
            "fit on lo; `sudo ip link set lo multicast on` lifts that limit")


def cyclonedds_xml(interface: str) -> str:
    if interface == "lo":
        return (
            '<CycloneDDS xmlns="https://cdds.io/config"><Domain id="any"><General>'
            '<Interfaces><NetworkInterface name="lo" multicast="default"/></Interfaces></General>'
            "<Discovery><ParticipantIndex>auto</ParticipantIndex>"
            "<MaxAutoParticipantIndex>64</MaxAutoParticipantIndex>"
            '<Peers><Peer address="127.0.0.1"/></Peers></Discovery></Domain></CycloneDDS>'
        )
    return (
        '<CycloneDDS xmlns="https://cdds.io/config"><Domain id="any"><General>'
        f'<Interfaces><NetworkInterface name="{interface}" multicast="default"/></Interfaces>'
        "</General></Domain></CycloneDDS>"
    )


_domains: dict[int, tuple[str, Domain]] = {}


def _domain(domain_id: int, interface: str) -> Domain:
    """CycloneDDS allows one configured Domain per id and process: share it."""
    if domain_id in _domains:
        existing, domain = _domains[domain_id]
        if existing != interface:
            raise ValueError(f"DDS domain {domain_id} is already open on {existing!r} in this process, not {interface!r}")
        return domain
    domain = Domain(domain_id, cyclonedds_xml(interface))
    _domains[domain_id] = (interface, domain)
    return domain


class DdsLink:
    """One participant on a domain and interface, with raw-byte access to rt/lowcmd and rt/lowstate."""

    def __init__(self, domain: int, interface: str) -> None:
        check_interface(interface)
        self.domain_id = domain
        self.interface = interface
        self._domain = _domain(domain, interface)
        self.participant = DomainParticipant(domain)
        self.cmd_topic = Topic(self.participant, LOW_CMD_TOPIC, idl_type(hg.LOW_CMD))
        self.state_topic = Topic(self.participant, LOW_STATE_TOPIC, idl_type(hg.LOW_STATE))

    def topic(self, name: str, idl: type) -> Topic:
        """Another topic of Unitree's types on this participant (e.g. rt/arm_sdk, a LowCmd_)."""
        return Topic(self.participant, name, idl)

    def writer(self, topic: Topic) -> DataWriter:
        return DataWriter(self.participant, topic)

    def reader(self, topic: Topic, depth: int = 64) -> DataReader:
        return DataReader(self.participant, topic, qos=Qos(Policy.History.KeepLast(depth)))

    def close(self) -> None:
        self.participant = None
        self._domain = None


def write_bytes(writer: DataWriter, data: bytes) -> None:
    ret = ddspy_write(writer._ref, data)
    if ret < 0:
        raise RuntimeError(f"DDS write failed with code {ret}")


def take_bytes(reader: DataReader, limit: int = 64) -> list[bytes]:
    """Every valid sample waiting in the reader, oldest first, as raw CDR bytes."""
    ret = ddspy_take(reader._ref, _ANY_SAMPLE, limit)
    if isinstance(ret, int):
        raise RuntimeError(f"DDS take failed with code {ret}")
    return [data for data, info in ret if info.valid_data]


class WireCounters(Protocol):
    bad_crc: int
    bad_size: int


def take_valid(reader: DataReader, codec: hg.MessageCodec, counters: WireCounters) -> Iterator[hg.MessageCodec]:
    """Decode each waiting sample into `codec.message`, yielding after each one whose size and CRC
    hold; the others are dropped and counted."""
    for data in take_bytes(reader):
        try:
            check = codec.decode(data)
        except hg.WireSizeError:
            counters.bad_size += 1
            continue
        if not check.ok:
            counters.bad_crc += 1
            continue
        yield codec
