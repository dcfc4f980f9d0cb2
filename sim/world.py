"""The simulated world: the G1 on a floor, lit for cameras, with an optional elastic band.

The band is what users know from Unitree's simulator: a spring-damper holding the robot from
above during start-up. It is a spatial tendon with a dead band from a fixed anchor to the top of
the torso, well above the centre of mass, so the hanging robot stays upright like a pendulum; MuJoCo
computes its force in C at every step and releasing it is setting two numbers to zero.

The optional target ball is something for the head camera to find: a mocap body, so it adds no joint
(qpos, qvel and every controller's indices stay as they are) and is placed by writing `mocap_pos`,
and its geom collides with nothing, so physics is the same with or without it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import mujoco

from robots.g1.mjcf import build_robot_mjcf
from robots.g1.variants import G1Variant, get_variant

BAND_TENDON = "elastic_band"
BAND_ANCHOR_SITE = "band_anchor"
BAND_ROBOT_SITE = "band_attach"
TARGET_BALL = "target_ball"
ROOM_CAMERA = "room"
"""With the ball: a fixed camera high behind the start, framing the room's middle, for task videos."""
WALLED_ROOM_CAMERA = "walled_room"
"""With walls: a fixed camera higher and farther back, framing the whole walled room."""
FOOT_SITES = ("left_foot", "right_foot")
"""Sole sites whose position, velocity and floor contact are sensed for gait rewards and evaluation."""


@dataclass(frozen=True)
class WorldConfig:
    variant: str = "29dof"
    timestep: float = 0.002
    """Physics step (s). The motor PD law is recomputed at every one of them."""
    floor_friction: float = 1.0
    band_stiffness: float = 5000.0
    band_damping: float = 600.0
    band_height: float = 2.2
    """Height of the band's anchor above the floor (m)."""
    mesh_dir: Path | None = None
    """Folder with Unitree's .STL meshes; primitive visuals are used when None."""
    offscreen_width: int = 640
    offscreen_height: int = 480
    target_ball: bool = False
    """Add the target ball (body and geom `TARGET_BALL`), 1 m in front of the robot until moved."""
    ball_radius: float = 0.1
    """About a size-5 football: some 20 px across at 2.5 m in a 224x224 head-camera frame."""
    ball_rgba: tuple[float, float, float, float] = (0.95, 0.35, 0.05, 1.0)
    """Orange: unlike the grey floor, the dark robot and the blue-grey sky."""
    walls: tuple[float, float] | None = None
    """Floor plan (m, centred on the origin) of a room's low walls, as `sim.rolling_ball` bounces a ball
    off them; they are drawn but collide with nothing, so the robot's physics is the same with or without."""


WALL_HEIGHT = 0.4
WALL_THICKNESS = 0.1


def wall_boxes(room_m: tuple[float, float], height: float = WALL_HEIGHT,
               thickness: float = WALL_THICKNESS) -> list[tuple[str, tuple[float, ...], tuple[float, ...]]]:
    """(name, centre, half-sizes) of four boxes whose inner faces enclose the floor plan `room_m`."""
    x, y, t, h = room_m[0] / 2, room_m[1] / 2, thickness / 2, height / 2
    return [("wall_east", (x + t, 0.0, h), (t, y + 2 * t, h)), ("wall_west", (-x - t, 0.0, h), (t, y + 2 * t, h)),
            ("wall_north", (0.0, y + t, h), (x + 2 * t, t, h)), ("wall_south", (0.0, -y - t, h), (x + 2 * t, t, h))]


def build_world_xml(config: WorldConfig, band_rest_length: float) -> str:
    variant: G1Variant = get_variant(config.variant)
    root = build_robot_mjcf(variant, config.mesh_dir)
    root.set("model", f"bessemer_{variant.name}_world")
    option = ET.Element("option", timestep=f"{config.timestep:g}", integrator="implicitfast")
    root.insert(1, option)
    visual = ET.Element("visual")
    ET.SubElement(visual, "global", offwidth=str(config.offscreen_width), offheight=str(config.offscreen_height))
    ET.SubElement(visual, "quality", shadowsize="0")
    ET.SubElement(visual, "headlight", ambient="0.4 0.4 0.4", diffuse="0.6 0.6 0.6")
    root.insert(2, visual)

    asset = root.find("asset")
    ET.SubElement(asset, "texture", name="grid", type="2d", builtin="checker", rgb1="0.32 0.34 0.38",
                  rgb2="0.26 0.28 0.31", width="512", height="512", mark="edge", markrgb="0.5 0.5 0.5")
    ET.SubElement(asset, "material", name="grid", texture="grid", texrepeat="8 8", reflectance="0.05")
    ET.SubElement(asset, "texture", name="sky", type="skybox", builtin="gradient", rgb1="0.55 0.65 0.8",
                  rgb2="0.1 0.12 0.16", width="256", height="256")

    worldbody = root.find("worldbody")
    ET.SubElement(worldbody, "light", pos="0 0 4", dir="0 0 -1", directional="true", castshadow="false")
    floor = ET.Element("geom", name="floor", type="plane", size="0 0 0.05", material="grid", contype="1",
                       conaffinity="1", friction=f"{config.floor_friction:g} 0.02 0.01", group="0")
    worldbody.insert(0, floor)
    ET.SubElement(worldbody, "site", name=BAND_ANCHOR_SITE, pos=f"0 0 {config.band_height:g}", size="0.02",
                  rgba="0.9 0.7 0.1 1", group="4")
    if config.target_ball:
        ET.SubElement(worldbody, "camera", name=ROOM_CAMERA, pos="0 -4.5 4", xyaxes="1 0 0 0 0.664 0.747",
                      fovy="60")
        r = config.ball_radius
        ball = ET.SubElement(worldbody, "body", name=TARGET_BALL, mocap="true", pos=f"1 0 {r:g}")
        ET.SubElement(ball, "geom", name=TARGET_BALL, type="sphere", size=f"{r:g}", contype="0", conaffinity="0",
                      rgba=" ".join(f"{c:g}" for c in config.ball_rgba), group="0")
    if config.walls:
        back = config.walls[1] / 2 + 2.0
        ET.SubElement(worldbody, "camera", name=WALLED_ROOM_CAMERA, pos=f"0 {-back:g} {back:g}",
                      xyaxes="1 0 0 0 0.707 0.707", fovy="60")
        for name, pos, size in wall_boxes(config.walls):
            ET.SubElement(worldbody, "geom", name=name, type="box", pos=" ".join(f"{v:g}" for v in pos),
                          size=" ".join(f"{v:g}" for v in size), contype="0", conaffinity="0",
                          rgba="0.55 0.52 0.48 1", group="0")
    pelvis = worldbody.find("body[@name='pelvis']")
    torso = pelvis.find(".//body[@name='torso_link']")
    ET.SubElement(torso, "site", name=BAND_ROBOT_SITE, pos="0 0 0.5", size="0.015", group="4")
    ET.SubElement(pelvis, "camera", name="follow", mode="trackcom", pos="1.5 -1.5 0.35", xyaxes="0.707 0.707 0 -0.2 0.2 0.96")

    tendon = ET.Element("tendon")
    spatial = ET.SubElement(tendon, "spatial", name=BAND_TENDON, stiffness=f"{config.band_stiffness:g}",
                            damping=f"{config.band_damping:g}", springlength=f"0 {band_rest_length:.6g}",
                            width="0.006", rgba="0.9 0.7 0.1 1")
    ET.SubElement(spatial, "site", site=BAND_ANCHOR_SITE)
    ET.SubElement(spatial, "site", site=BAND_ROBOT_SITE)
    root.insert(list(root).index(root.find("actuator")), tendon)
    sensor = root.find("sensor")
    for site in FOOT_SITES:
        body = pelvis.find(f".//site[@name='{site}']/..").get("name")
        ET.SubElement(sensor, "framepos", name=f"{site}_pos", objtype="site", objname=site)
        ET.SubElement(sensor, "framelinvel", name=f"{site}_vel", objtype="site", objname=site)
        ET.SubElement(sensor, "contact", name=f"{site}_contact", body1=body, geom2="floor", num="1", data="found")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def build_world(config: WorldConfig, band_rest_length: float = 1.0) -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(build_world_xml(config, band_rest_length))
