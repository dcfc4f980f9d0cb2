"""The project's own MJCF of the G1, generated from the shipped reference description.

Bodies, frames, inertials, joint axes and ranges, armature and the capsule/sphere collision set come
straight from the reference; joint friction loss and damping from the joint table. Visuals are primitive "bones" unless the user points `mesh_dir` at
Unitree's mesh files (`<body name>.STL`), which then replace them. Each motor is a MuJoCo `general`
actuator wired as the motor driver's PD law (see `sim/robot.py`), so the law runs in C at every
physics step.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from robots.g1.joints import joint_table, reference
from robots.g1.variants import G1Variant, get_variant

FREE_JOINT = "floating_base_joint"
HEAD_CAMERA = "head_camera"
PELVIS_IMU_SITE = "imu_in_pelvis"
TORSO_IMU_SITE = "imu_in_torso"
# RealSense D435i on torso_link: position and downward pitch from Unitree's description.
HEAD_CAMERA_POS = (0.0576, 0.0175, 0.4299)
HEAD_CAMERA_PITCH = 0.8308
HEAD_CAMERA_FOVY_DEG = 42.0
IMU_SENSORS = {PELVIS_IMU_SITE: "pelvis", TORSO_IMU_SITE: "torso"}

_COLLISION_RGBA = "0.55 0.57 0.6 0.35"
_BONE_RGBA = "0.15 0.16 0.18 1"
_BONE_RADIUS = 0.022
# Joint-limit constraint time constant (s): stiffer than MuJoCo's 0.02 default so a robot folding
# onto the floor stays inside its joint ranges; 2x the 2 ms physics step is the stable minimum.
_LIMIT_TIMECONST = 0.004


def _fmt(values) -> str:
    return " ".join(f"{float(v):.9g}" for v in values)


def _sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})


def build_robot_mjcf(variant: G1Variant | str = "29dof", mesh_dir: Path | str | None = None) -> ET.Element:
    """The robot alone (no floor, no light) as an MJCF element tree, ready to be put in a world."""
    if isinstance(variant, str):
        variant = get_variant(variant)
    ref = reference()
    mesh_dir = Path(mesh_dir) if mesh_dir is not None else None
    if mesh_dir is not None and not mesh_dir.is_dir():
        raise FileNotFoundError(f"mesh directory {mesh_dir} does not exist: pass the folder holding Unitree's .STL files")

    root = ET.Element("mujoco", model=f"unitree_g1_{variant.name}")
    _sub(root, "compiler", angle="radian", autolimits="true")
    default = _sub(root, "default")
    _sub(default, "joint", solreflimit=f"{_LIMIT_TIMECONST} 1")
    _sub(default, "geom", contype="1", conaffinity="0", condim="3", friction="1 0.02 0.01")
    _sub(default, "site", size="0.01", rgba="1 0.3 0.3 0.6", group="4")
    asset = _sub(root, "asset")
    worldbody = _sub(root, "worldbody")

    bodies = {b["name"]: b for b in ref["bodies"]}
    children: dict[str, list[str]] = {}
    for b in ref["bodies"]:
        children.setdefault(b["parent"], []).append(b["name"])
    joints_by_body = {j.body: j for j in joint_table()}
    locked_bodies = {joint_table()[i].body for i in variant.locked}
    geoms_by_body: dict[str, list[dict]] = {}
    for g in ref["collision_geoms"]:
        geoms_by_body.setdefault(g["body"], []).append(g)
    sites_by_body: dict[str, list[dict]] = {}
    for s in ref["sites"]:
        sites_by_body.setdefault(s["body"], []).append(s)

    def add_body(parent_el: ET.Element, name: str) -> None:
        b = bodies[name]
        el = _sub(parent_el, "body", name=name, pos=_fmt(b["pos"]), quat=_fmt(b["quat"]))
        _sub(
            el,
            "inertial",
            pos=_fmt(b["com"]),
            quat=_fmt(b["inertia_quat"]),
            mass=f"{b['mass']:.9g}",
            diaginertia=_fmt(b["diag_inertia"]),
        )
        if b["parent"] == "world":
            _sub(el, "freejoint", name=FREE_JOINT)
        elif name in joints_by_body and name not in locked_bodies:
            j = joints_by_body[name]
            _sub(el, "joint", name=j.name, axis=_fmt(j.axis), range=_fmt((j.lower, j.upper)), armature=f"{j.armature:.9g}",
                 frictionloss=f"{j.frictionloss:.9g}", damping=f"{j.damping:.9g}")
        for g in geoms_by_body.get(name, []):
            size = [v for v in g["size"] if v != 0.0] or g["size"][:1]
            _sub(el, "geom", name=g["name"], type=g["type"], size=_fmt(size), pos=_fmt(g["pos"]),
                 quat=_fmt(g["quat"]), rgba=_COLLISION_RGBA, group="3")
        mesh_file = mesh_dir / f"{name}.STL" if mesh_dir is not None else None
        if mesh_file is not None and mesh_file.is_file():
            _sub(asset, "mesh", name=name, file=str(mesh_file.resolve()))
            _sub(el, "geom", type="mesh", mesh=name, contype="0", conaffinity="0", group="2", density="0",
                 rgba="0.7 0.7 0.7 1")
        else:
            for child in children.get(name, []):
                tip = bodies[child]["pos"]
                if math.dist(tip, (0.0, 0.0, 0.0)) > 1e-3:
                    _sub(el, "geom", type="capsule", fromto=_fmt((0, 0, 0, *tip)), size=f"{_BONE_RADIUS}",
                         contype="0", conaffinity="0", group="2", density="0", rgba=_BONE_RGBA)
            for g in geoms_by_body.get(name, []):
                size = [v for v in g["size"] if v != 0.0] or g["size"][:1]
                _sub(el, "geom", type=g["type"], size=_fmt(size), pos=_fmt(g["pos"]), quat=_fmt(g["quat"]),
                     contype="0", conaffinity="0", group="2", density="0", rgba="0.75 0.76 0.78 1")
        for s in sites_by_body.get(name, []):
            _sub(el, "site", name=s["name"], pos=_fmt(s["pos"]), quat=_fmt(s["quat"]))
        if name == "torso_link":
            p = HEAD_CAMERA_PITCH
            _sub(el, "camera", name=HEAD_CAMERA, pos=_fmt(HEAD_CAMERA_POS),
                 xyaxes=_fmt((0, -1, 0, math.sin(p), 0, math.cos(p))), fovy=f"{HEAD_CAMERA_FOVY_DEG:g}")
        for child in children.get(name, []):
            add_body(el, child)

    for top in children["world"]:
        add_body(worldbody, top)

    actuator = _sub(root, "actuator")
    for j in joint_table():
        if j.dds_index in variant.locked:
            continue
        _sub(actuator, "general", name=j.name.removesuffix("_joint"), joint=j.name, gaintype="fixed", gainprm="1",
             biastype="affine", biasprm=f"0 {-j.kp:g} {-j.kd:g}", forcelimited="true",
             forcerange=_fmt((-j.effort_limit, j.effort_limit)), ctrllimited="false")

    sensor = _sub(root, "sensor")
    for site, prefix in IMU_SENSORS.items():
        _sub(sensor, "framequat", name=f"{prefix}_quat", objtype="site", objname=site)
        _sub(sensor, "gyro", name=f"{prefix}_gyro", site=site)
        _sub(sensor, "accelerometer", name=f"{prefix}_accel", site=site)
    return root


def robot_xml(variant: G1Variant | str = "29dof", mesh_dir: Path | str | None = None) -> str:
    root = build_robot_mjcf(variant, mesh_dir)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")
