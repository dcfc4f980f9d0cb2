"""A CycloneDDS 0.10.x participant, as Unitree's SDK and the G1's own software are: run by the tests
under Python 3.10 with `cyclonedds==0.10.2` and nothing of the project.

Its types are written the way Unitree's Python SDK writes them (`types.uint8` for bytes, which 0.10
describes as XTypes TK_BYTE). Modes:
  typeinfo              print each type's XTypes TypeInformation + TypeMapping as hex JSON
  client DOMAIN SECS XML  read rt/lowstate and rt/sportmodestate, publish damping rt/lowcmd
                          (mode_machine echoed, CRC set) until it has exchanged ENOUGH of each
  robot DOMAIN SECS XML   publish rt/lowstate at 200 Hz, read rt/lowcmd, answer motion_switcher CheckMode,
                          until ENOUGH commands came and then none for a second (the controller left)
Each run mode prints one JSON line of counts; XML is the CycloneDDS configuration. SECS only bounds a
run whose partner never shows up: ending on counts keeps a loaded machine from starving the exchange.
"""

import json
import struct
import sys
import time
from dataclasses import dataclass, field

from cyclonedds.domain import Domain, DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl import annotations as annotate
from cyclonedds.idl import types
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic

ENOUGH = 300


@dataclass
@annotate.final
@annotate.autoid("sequential")
class MotorCmd_(IdlStruct, typename="unitree_hg.msg.dds_.MotorCmd_"):
    mode: types.uint8 = 0
    q: types.float32 = 0.0
    dq: types.float32 = 0.0
    tau: types.float32 = 0.0
    kp: types.float32 = 0.0
    kd: types.float32 = 0.0
    reserve: types.uint32 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class LowCmd_(IdlStruct, typename="unitree_hg.msg.dds_.LowCmd_"):
    mode_pr: types.uint8 = 0
    mode_machine: types.uint8 = 0
    motor_cmd: types.array[MotorCmd_, 35] = field(default_factory=lambda: [MotorCmd_() for _ in range(35)])
    reserve: types.array[types.uint32, 4] = field(default_factory=lambda: [0] * 4)
    crc: types.uint32 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class IMUState_(IdlStruct, typename="unitree_hg.msg.dds_.IMUState_"):
    quaternion: types.array[types.float32, 4] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    gyroscope: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    accelerometer: types.array[types.float32, 3] = field(default_factory=lambda: [0.0, 0.0, 9.81])
    rpy: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    temperature: types.int16 = 30


@dataclass
@annotate.final
@annotate.autoid("sequential")
class MotorState_(IdlStruct, typename="unitree_hg.msg.dds_.MotorState_"):
    mode: types.uint8 = 1
    q: types.float32 = 0.0
    dq: types.float32 = 0.0
    ddq: types.float32 = 0.0
    tau_est: types.float32 = 0.0
    temperature: types.array[types.int16, 2] = field(default_factory=lambda: [30, 30])
    vol: types.float32 = 0.0
    sensor: types.array[types.uint32, 2] = field(default_factory=lambda: [0, 0])
    motorstate: types.uint32 = 0
    reserve: types.array[types.uint32, 4] = field(default_factory=lambda: [0] * 4)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class LowState_(IdlStruct, typename="unitree_hg.msg.dds_.LowState_"):
    version: types.array[types.uint32, 2] = field(default_factory=lambda: [0, 0])
    mode_pr: types.uint8 = 0
    mode_machine: types.uint8 = 0
    tick: types.uint32 = 0
    imu_state: IMUState_ = field(default_factory=IMUState_)
    motor_state: types.array[MotorState_, 35] = field(default_factory=lambda: [MotorState_() for _ in range(35)])
    wireless_remote: types.array[types.uint8, 40] = field(default_factory=lambda: [0] * 40)
    reserve: types.array[types.uint32, 4] = field(default_factory=lambda: [0] * 4)
    crc: types.uint32 = 0


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
    binary: types.sequence[types.uint8] = field(default_factory=list)


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
    binary: types.sequence[types.uint8] = field(default_factory=list)


@dataclass
@annotate.final
@annotate.autoid("sequential")
class TimeSpec_(IdlStruct, typename="unitree_go.msg.dds_.TimeSpec_"):
    sec: types.int32 = 0
    nanosec: types.uint32 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class GoIMUState_(IdlStruct, typename="unitree_go.msg.dds_.IMUState_"):
    quaternion: types.array[types.float32, 4] = field(default_factory=lambda: [1.0, 0.0, 0.0, 0.0])
    gyroscope: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    accelerometer: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    rpy: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    temperature: types.uint8 = 0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class PathPoint_(IdlStruct, typename="unitree_go.msg.dds_.PathPoint_"):
    t_from_start: types.float32 = 0.0
    x: types.float32 = 0.0
    y: types.float32 = 0.0
    yaw: types.float32 = 0.0
    vx: types.float32 = 0.0
    vy: types.float32 = 0.0
    vyaw: types.float32 = 0.0


@dataclass
@annotate.final
@annotate.autoid("sequential")
class SportModeState_(IdlStruct, typename="unitree_go.msg.dds_.SportModeState_"):
    stamp: TimeSpec_ = field(default_factory=TimeSpec_)
    error_code: types.uint32 = 0
    imu_state: GoIMUState_ = field(default_factory=GoIMUState_)
    mode: types.uint8 = 0
    progress: types.float32 = 0.0
    gait_type: types.uint8 = 0
    foot_raise_height: types.float32 = 0.0
    position: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    body_height: types.float32 = 0.0
    velocity: types.array[types.float32, 3] = field(default_factory=lambda: [0.0] * 3)
    yaw_speed: types.float32 = 0.0
    range_obstacle: types.array[types.float32, 4] = field(default_factory=lambda: [0.0] * 4)
    foot_force: types.array[types.int16, 4] = field(default_factory=lambda: [0] * 4)
    foot_position_body: types.array[types.float32, 12] = field(default_factory=lambda: [0.0] * 12)
    foot_speed_body: types.array[types.float32, 12] = field(default_factory=lambda: [0.0] * 12)
    path_point: types.array[PathPoint_, 10] = field(default_factory=lambda: [PathPoint_() for _ in range(10)])


def _crc_table():
    table = []
    for i in range(256):
        c = i << 24
        for _ in range(8):
            c = ((c << 1) ^ 0x04C11DB7) if c & 0x80000000 else (c << 1)
        table.append(c & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def crc32_words(packed: bytes) -> int:
    """CRC-32/MPEG-2 over each little-endian word's big-endian bytes, all words but the last."""
    crc = 0xFFFFFFFF
    for (word,) in struct.iter_unpack("<I", packed[:-4]):
        for b in word.to_bytes(4, "big"):
            crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[((crc >> 24) ^ b) & 0xFF]
    return crc


def pack_low_cmd(m: LowCmd_) -> bytes:
    out = struct.pack("<2B2x", m.mode_pr, m.mode_machine)
    for c in m.motor_cmd:
        out += struct.pack("<B3x5fI", c.mode, c.q, c.dq, c.tau, c.kp, c.kd, c.reserve)
    return out + struct.pack("<5I", *m.reserve, m.crc)


def pack_low_state(m: LowState_) -> bytes:
    i = m.imu_state
    out = struct.pack("<2I2B2xI", *m.version, m.mode_pr, m.mode_machine, m.tick)
    out += struct.pack("<13fh2x", *i.quaternion, *i.gyroscope, *i.accelerometer, *i.rpy, i.temperature)
    for s in m.motor_state:
        out += struct.pack("<B3x4f2hf7I", s.mode, s.q, s.dq, s.ddq, s.tau_est, *s.temperature, s.vol, *s.sensor,
                           s.motorstate, *s.reserve)
    return out + struct.pack("<40B5I", *m.wireless_remote, *m.reserve, m.crc)


def typeinfo() -> None:
    out = {}
    for t in (LowCmd_, LowState_, Request_, Response_, SportModeState_):
        t.__idl__.fill_type_data()
        info, mapping = t.__idl__._xt_bytedata
        out[t.__idl_typename__] = (info + mapping).hex()
    print(json.dumps(out), flush=True)


def valid(reader: DataReader, kind: type) -> list:
    """Samples with data; a peer that leaves sends invalid ones (no data, only its state)."""
    return [s for s in reader.take(N=64) if isinstance(s, kind)]


def client(participant: DomainParticipant, seconds: float) -> dict:
    states = DataReader(participant, Topic(participant, "rt/lowstate", LowState_))
    commands = DataWriter(participant, Topic(participant, "rt/lowcmd", LowCmd_))
    sport = DataReader(participant, Topic(participant, "rt/sportmodestate", SportModeState_))
    counts = {"states": 0, "states_crc_ok": 0, "commands_sent": 0, "sport_states": 0}
    cmd = LowCmd_()
    for motor in cmd.motor_cmd[:29]:
        motor.mode, motor.kd = 1, 8.0
    end = time.monotonic() + seconds
    while time.monotonic() < end and min(counts["states"], counts["sport_states"], counts["commands_sent"]) < ENOUGH:
        for state in valid(states, LowState_):
            counts["states"] += 1
            counts["states_crc_ok"] += crc32_words(pack_low_state(state)) == state.crc
            cmd.mode_machine = state.mode_machine
        for state in valid(sport, SportModeState_):
            counts["sport_states"] += 1
            counts["last_sport_state"] = {"stamp": state.stamp.sec + state.stamp.nanosec * 1e-9,
                                          "position": list(state.position), "body_height": state.body_height,
                                          "quaternion": list(state.imu_state.quaternion)}
        if counts["states"]:
            cmd.crc = crc32_words(pack_low_cmd(cmd))
            commands.write(cmd)
            counts["commands_sent"] += 1
        time.sleep(0.005)
    return counts


def robot(participant: DomainParticipant, seconds: float) -> dict:
    states = DataWriter(participant, Topic(participant, "rt/lowstate", LowState_))
    commands = DataReader(participant, Topic(participant, "rt/lowcmd", LowCmd_))
    requests = DataReader(participant, Topic(participant, "rt/api/motion_switcher/request", Request_))
    responses = DataWriter(participant, Topic(participant, "rt/api/motion_switcher/response", Response_))
    counts = {"states_sent": 0, "commands": 0, "commands_crc_ok": 0, "enabled_commands": 0, "requests": 0}
    state = LowState_(mode_machine=5)
    start = last_command = time.monotonic()
    end = start + seconds
    while time.monotonic() < end and not (counts["commands"] >= ENOUGH and time.monotonic() - last_command > 1.0):
        state.tick = int((time.monotonic() - start) * 1000)
        state.crc = crc32_words(pack_low_state(state))
        states.write(state)
        counts["states_sent"] += 1
        for cmd in valid(commands, LowCmd_):
            last_command = time.monotonic()
            counts["commands"] += 1
            counts["commands_crc_ok"] += crc32_words(pack_low_cmd(cmd)) == cmd.crc
            counts["enabled_commands"] += any(m.mode == 1 for m in cmd.motor_cmd[:29])
        for request in valid(requests, Request_):
            counts["requests"] += 1
            answer = Response_(data=json.dumps({"form": "0", "name": ""}))
            answer.header.identity = request.header.identity
            responses.write(answer)
        time.sleep(0.005)
    return counts


def main() -> None:
    mode = sys.argv[1]
    if mode == "typeinfo":
        typeinfo()
        return
    domain, seconds = int(sys.argv[2]), float(sys.argv[3])
    keep = Domain(domain, sys.argv[4])
    participant = DomainParticipant(domain)
    counts = (client if mode == "client" else robot)(participant, seconds)
    print(json.dumps(counts), flush=True)
    del keep


if __name__ == "__main__":
    main()
