"""`unitree_go` SportModeState_: the high-level state every Unitree robot's sport service publishes.

G1 owners' scripts read `rt/sportmodestate` with this Go2-era type (the G1's locomotion examples
import it too), and Unitree's own simulator publishes it for every robot with the pelvis position
and velocity filled, since a simulated robot knows them. The field tables follow the IDL's order;
the codec is `unitree_hg`'s (plain little-endian CDR), without a CRC: this message has none.
"""

from __future__ import annotations

from robots.unitree_hg import MessageCodec, MessageLayout

SPORT_MODE_STATE_TOPIC = "rt/sportmodestate"
TIME_SPEC = (("sec", "i4", 1), ("nanosec", "u4", 1))
IMU_STATE = (("quaternion", "f4", 4), ("gyroscope", "f4", 3), ("accelerometer", "f4", 3), ("rpy", "f4", 3),
             ("temperature", "u1", 1))
PATH_POINT = (("t_from_start", "f4", 1), ("x", "f4", 1), ("y", "f4", 1), ("yaw", "f4", 1), ("vx", "f4", 1),
              ("vy", "f4", 1), ("vyaw", "f4", 1))
SPORT_MODE_STATE = (("stamp", TIME_SPEC, 1), ("error_code", "u4", 1), ("imu_state", IMU_STATE, 1),
                    ("mode", "u1", 1), ("progress", "f4", 1), ("gait_type", "u1", 1),
                    ("foot_raise_height", "f4", 1), ("position", "f4", 3), ("body_height", "f4", 1),
                    ("velocity", "f4", 3), ("yaw_speed", "f4", 1), ("range_obstacle", "f4", 4),
                    ("foot_force", "i2", 4), ("foot_position_body", "f4", 12), ("foot_speed_body", "f4", 12),
                    ("path_point", PATH_POINT, 10))


class SportModeStateCodec(MessageCodec):
    layout = MessageLayout(SPORT_MODE_STATE)
