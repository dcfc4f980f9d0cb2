"""`unitree_go` SportModeState_ written out by hand from Unitree's IDL, independent of the project's
field tables: the reference its codec is checked against. A byte is `octet`, as in
`unitree_hg_reference`."""

from dataclasses import dataclass

from cyclonedds.idl import IdlStruct
from cyclonedds.idl import annotations as annotate
from cyclonedds.idl import types


@dataclass
@annotate.final
@annotate.autoid("sequential")
class TimeSpec_(IdlStruct, typename="unitree_go.msg.dds_.TimeSpec_"):
    sec: types.int32
    nanosec: types.uint32


@dataclass
@annotate.final
@annotate.autoid("sequential")
class IMUState_(IdlStruct, typename="unitree_go.msg.dds_.IMUState_"):
    quaternion: types.array[types.float32, 4]
    gyroscope: types.array[types.float32, 3]
    accelerometer: types.array[types.float32, 3]
    rpy: types.array[types.float32, 3]
    temperature: types.byte


@dataclass
@annotate.final
@annotate.autoid("sequential")
class PathPoint_(IdlStruct, typename="unitree_go.msg.dds_.PathPoint_"):
    t_from_start: types.float32
    x: types.float32
    y: types.float32
    yaw: types.float32
    vx: types.float32
    vy: types.float32
    vyaw: types.float32


@dataclass
@annotate.final
@annotate.autoid("sequential")
class SportModeState_(IdlStruct, typename="unitree_go.msg.dds_.SportModeState_"):
    stamp: TimeSpec_
    error_code: types.uint32
    imu_state: IMUState_
    mode: types.byte
    progress: types.float32
    gait_type: types.byte
    foot_raise_height: types.float32
    position: types.array[types.float32, 3]
    body_height: types.float32
    velocity: types.array[types.float32, 3]
    yaw_speed: types.float32
    range_obstacle: types.array[types.float32, 4]
    foot_force: types.array[types.int16, 4]
    foot_position_body: types.array[types.float32, 12]
    foot_speed_body: types.array[types.float32, 12]
    path_point: types.array[PathPoint_, 10]
