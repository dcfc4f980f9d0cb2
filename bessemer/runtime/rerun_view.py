"""A recording as a Rerun recording: the robot moving in the model's own geometry, the joints' measured and
commanded positions, the FSM's states and faults as a timeline, events as a log, the policy's actions and
the cameras' frames.

The model's visual geoms (capsules and spheres, or Unitree's meshes with `mesh_dir`) are logged once per
body, in the body's frame; each frame then only moves the bodies, posed by MuJoCo's kinematics from the
recorded joints and pelvis. Series go in as columns (`send_columns`), one call per entity, so a minute at
500 Hz is written in seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
import rerun as rr
import rerun.blueprint as rrb

from bessemer.runtime.recorder import PERCEPT
from bessemer.runtime.recording import Recording
from control.fsm import FsmId
from robots.g1.joints import joint_names
from robots.g1.variants import get_variant
from sim.robot import SimRobot
from sim.world import WorldConfig

VISUAL_GROUP = 2
"""The G1 model's visual geoms; group 3 holds the simplified collision geoms."""
TIMELINE = "time"


@dataclass(frozen=True)
class ViewConfig:
    fps: float = 50.0
    """Rate of the robot's poses in the 3D view; plots keep every recorded tick."""
    mesh_dir: Path | None = None


def blueprint(cameras: tuple[str, ...] = (), percepts: bool = False) -> rrb.Blueprint:
    """`percepts`: the sound's and the target's bearings and what is sounding, for a recording that has them."""
    robot = rrb.Spatial3DView(origin="/world", name="robot")
    sound = ((rrb.TimeSeriesView(origin="/perception", name="sound and target bearing (deg)"),
              rrb.StateTimelineView(origin="/sound", name="what is sounding")) if percepts else ())
    if cameras:
        robot = rrb.Horizontal(robot, *(rrb.Spatial2DView(origin=f"/camera/{c}", name=f"{c} camera") for c in cameras),
                               column_shares=[2] + [1] * len(cameras))
    return rrb.Blueprint(
        rrb.Horizontal(
            rrb.Vertical(robot,
                         rrb.StateTimelineView(origin="/fsm", contents=["/fsm/state", "/fsm/fault"], name="FSM"),
                         row_shares=[3, 1]),
            rrb.Vertical(rrb.TimeSeriesView(origin="/joints", name="joints: measured and commanded (rad)"),
                         rrb.TimeSeriesView(origin="/policy", name="policy actions"),
                         rrb.TimeSeriesView(origin="/pelvis", name="pelvis"),
                         *sound,
                         rrb.TextLogView(origin="/events", name="events")),
            column_shares=[3, 2]),
        collapse_panels=True)


def log_recording(recording: Recording, stream: rr.RecordingStream, config: ViewConfig = ViewConfig()) -> dict:
    """Send everything in `recording` to `stream`; return what was logged (entities by kind, frames)."""
    meta = recording.metadata["bessemer"]
    state = recording.channels["/robot/state"]
    t0 = float(state["time"][0])
    logged = {"frames": _log_robot(recording, stream, config, t0)}
    logged["joints"] = _log_joints(recording, stream, meta["variant"], t0)
    logged["fsm_changes"] = _log_fsm(recording, stream, t0) if "/fsm/state" in recording.channels else 0
    logged["events"] = _log_events(recording, stream, t0)
    logged["policy_steps"] = _log_policy(recording, stream, t0)
    logged["camera_frames"] = _log_cameras(recording, stream, t0)
    logged["percepts"] = _log_percepts(recording, stream, t0)
    _log_pelvis(recording, stream, t0)
    return logged


def _times(seconds: np.ndarray, t0: float) -> list[rr.TimeColumn]:
    return [rr.TimeColumn(TIMELINE, duration=np.asarray(seconds, dtype=np.float64) - t0)]


def _scalars(stream: rr.RecordingStream, entity: str, seconds: np.ndarray, values: np.ndarray, t0: float) -> None:
    stream.send_columns(entity, indexes=_times(seconds, t0), columns=rr.Scalars.columns(scalars=values))


class RobotPoser:
    """The G1's visual geoms logged once under `/world/robot/BODY` in each body's frame; `send` then moves the
    bodies, posed by MuJoCo's kinematics from joint positions and a pelvis pose."""

    def __init__(self, stream: rr.RecordingStream, variant: str, mesh_dir: Path | None = None) -> None:
        self.stream = stream
        self.robot = SimRobot(WorldConfig(variant=variant, mesh_dir=mesh_dir))
        self.model, self.data = self.robot.model, mujoco.MjData(self.robot.model)
        self.bodies = [b for b in range(1, self.model.nbody) if _log_geoms(self.model, b, stream)]
        stream.log("/world/floor", rr.Boxes3D(half_sizes=[[2.5, 2.5, 0.001]], centers=[[0, 0, -0.001]],
                                              colors=[[80, 84, 92]]), static=True)
        self.qadr = {}
        for i, name in enumerate(joint_names()):
            jid = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_JOINT, name)
            if jid >= 0:
                self.qadr[i] = int(self.model.jnt_qposadr[jid])

    def send(self, times: list[rr.TimeColumn], pos: np.ndarray, quat: np.ndarray, q: np.ndarray) -> None:
        """One pose per row: pelvis position and w-x-y-z quaternion in the world, joint positions in DDS order."""
        model, data = self.model, self.data
        xpos, xquat = np.zeros((len(q), model.nbody, 3)), np.zeros((len(q), model.nbody, 4))
        for f in range(len(q)):
            data.qpos[:3], data.qpos[3:7] = pos[f], quat[f]
            for i, adr in self.qadr.items():
                data.qpos[adr] = q[f, i]
            mujoco.mj_kinematics(model, data)
            xpos[f], xquat[f] = data.xpos, data.xquat
        for b in self.bodies:
            self.stream.send_columns(f"/world/robot/{_body_name(model, b)}", indexes=times,
                                     columns=rr.Transform3D.columns(translation=xpos[:, b],
                                                                    quaternion=xquat[:, b][:, [1, 2, 3, 0]]))


def _log_robot(recording: Recording, stream: rr.RecordingStream, config: ViewConfig, t0: float) -> int:
    meta = recording.metadata["bessemer"]
    poser = RobotPoser(stream, meta["variant"], config.mesh_dir)
    state = recording.channels["/robot/state"]
    pelvis = recording.channels.get("/sim/pelvis")
    step = max(1, round(1.0 / (config.fps * float(meta["period_s"]))))
    frames = np.arange(0, len(state), step)
    q = state["q"][np.minimum(frames + 1, len(state) - 1)]  # the joints after the tick's step, as the pelvis is
    if pelvis is not None and len(pelvis):
        held = np.minimum(frames, len(pelvis) - 1)
        pos, quat = pelvis["pos"][held], pelvis["quat"][held]
    else:
        height = poser.robot.standing_height(state["q"][0])  # a robot's log has no pelvis position
        pos, quat = np.tile([0.0, 0.0, height], (len(frames), 1)), state["quat"][frames]
    poser.send(_times(state["time"][frames], t0), pos, quat, q)
    return len(frames)


def _body_name(model: mujoco.MjModel, body: int) -> str:
    return mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body)


def _log_geoms(model: mujoco.MjModel, body: int, stream: rr.RecordingStream) -> bool:
    """The body's visual geoms as static shapes in its frame; False if it has none."""
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == body and model.geom_group[g] == VISUAL_GROUP]
    for g in geoms:
        entity = f"/world/robot/{_body_name(model, body)}/geom_{g}"
        pos, quat = model.geom_pos[g], model.geom_quat[g]
        color = (np.clip(model.geom_rgba[g], 0, 1) * 255).astype(np.uint8)
        size = model.geom_size[g]
        kind = model.geom_type[g]
        stream.log(entity, rr.Transform3D(translation=pos, quaternion=quat[[1, 2, 3, 0]]), static=True)
        if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
            shape = rr.Capsules3D(lengths=[2 * size[1]], radii=[size[0]], translations=[[0, 0, -size[1]]],
                                  colors=[color])
        elif kind == mujoco.mjtGeom.mjGEOM_SPHERE:
            shape = rr.Ellipsoids3D(half_sizes=[[size[0]] * 3], colors=[color], fill_mode="solid")
        elif kind == mujoco.mjtGeom.mjGEOM_BOX:
            shape = rr.Boxes3D(half_sizes=[size], colors=[color], fill_mode="solid")
        elif kind == mujoco.mjtGeom.mjGEOM_CYLINDER:
            shape = rr.Cylinders3D(lengths=[2 * size[1]], radii=[size[0]], colors=[color])
        elif kind == mujoco.mjtGeom.mjGEOM_MESH:
            mesh = model.geom_dataid[g]
            v0, nv = model.mesh_vertadr[mesh], model.mesh_vertnum[mesh]
            f0, nf = model.mesh_faceadr[mesh], model.mesh_facenum[mesh]
            shape = rr.Mesh3D(vertex_positions=model.mesh_vert[v0:v0 + nv],
                              triangle_indices=model.mesh_face[f0:f0 + nf], albedo_factor=color)
        else:
            continue
        stream.log(entity, shape, static=True)
    return bool(geoms)


def _log_joints(recording: Recording, stream: rr.RecordingStream, variant: str, t0: float) -> int:
    state, command = recording.channels["/robot/state"], recording.channels["/robot/command"]
    names = joint_names()
    active = np.flatnonzero(get_variant(variant).active_mask > 0)
    for i in active:
        name = names[i].removesuffix("_joint")
        stream.log(f"/joints/{name}/measured", rr.SeriesLines(names=f"{name} measured"), static=True)
        stream.log(f"/joints/{name}/commanded", rr.SeriesLines(names=f"{name} commanded"), static=True)
        _scalars(stream, f"/joints/{name}/measured", state["time"], state["q"][:, i], t0)
        _scalars(stream, f"/joints/{name}/commanded", command["time"], command["q"][:, i], t0)
    return len(active)


def _log_fsm(recording: Recording, stream: rr.RecordingStream, t0: float) -> int:
    fsm = recording.channels["/fsm/state"]
    changes = np.flatnonzero(np.diff(fsm["state"].astype(np.int64), prepend=-1))
    names = np.array([state_name(int(s)) for s in fsm["state"][changes]])
    stream.send_columns("/fsm/state", indexes=_times(fsm["time"][changes], t0),
                        columns=rr.StateChange.columns(state=names))
    faulted = fsm["faulted"].astype(np.int64)
    flips = np.flatnonzero(np.diff(faulted, prepend=0))
    reasons = iter(e["text"] for e in recording.events if e["kind"] == "fault")
    lanes = [next(reasons, "fault") if faulted[i] else None for i in flips]
    for i, lane in zip(flips, lanes):
        stream.set_time(TIMELINE, duration=float(fsm["time"][i]) - t0)
        stream.log("/fsm/fault", rr.StateChange(state=lane))
    return len(changes)


def state_name(state: int) -> str:
    try:
        return f"{state} {FsmId(state).name.lower()}"
    except ValueError:
        return str(state)


def _log_events(recording: Recording, stream: rr.RecordingStream, t0: float) -> int:
    events = recording.events
    if events:
        times = np.array([e["time"] for e in events])
        levels = ["WARN" if e["kind"] == "fault" else "INFO" for e in events]
        texts = [f"[{e['kind']}] {e['text']}" for e in events]
        stream.send_columns("/events", indexes=_times(times, t0), columns=rr.TextLog.columns(text=texts, level=levels))
    return len(events)


def _log_policy(recording: Recording, stream: rr.RecordingStream, t0: float) -> int:
    action = recording.channels.get("/policy/action")
    if action is None or not len(action):
        return 0
    contract = recording.contract
    for j, i in enumerate(contract["actuated"]):
        name = contract["joint_names"][i].removesuffix("_joint")
        _scalars(stream, f"/policy/action/{name}", action["time"], action["action"][:, j], t0)
    return len(action)


def _log_cameras(recording: Recording, stream: rr.RecordingStream, t0: float) -> int:
    for name, frames in recording.cameras.items():
        stream.send_columns(f"/camera/{name}", indexes=_times(frames.time, t0),
                            columns=rr.EncodedImage.columns(blob=frames.jpeg,
                                                            media_type=["image/jpeg"] * len(frames.jpeg)))
    return sum(len(frames.jpeg) for frames in recording.cameras.values())


def _log_percepts(recording: Recording, stream: rr.RecordingStream, t0: float) -> int:
    """Bearings as plots (gaps where not known), the sound's class as a lane that changes when it does."""
    percepts = recording.channels.get(PERCEPT)
    if percepts is None or not len(percepts):
        return 0
    for name in ("sound_bearing_deg", "target_bearing_deg"):
        _scalars(stream, f"/perception/{name}", percepts["time"], percepts[name], t0)
    classes = json.loads(recording.metadata.get("perception", {}).get("sound_classes", "[]"))
    names = np.array([classes[c - 1] if 0 < c <= len(classes) else "unknown" for c in percepts["sound_class"]])
    changes = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
    stream.send_columns("/sound/class", indexes=_times(percepts["time"][changes], t0),
                        columns=rr.StateChange.columns(state=names[changes]))
    return len(percepts)


def _log_pelvis(recording: Recording, stream: rr.RecordingStream, t0: float) -> None:
    state = recording.channels["/robot/state"]
    w, x, y, z = state["quat"].T
    tilt = np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y), -1.0, 1.0))
    _scalars(stream, "/pelvis/tilt_rad", state["time"], tilt, t0)
    for axis, values in zip("xyz", state["gyro"].T):
        _scalars(stream, f"/pelvis/gyro_{axis}_rad_s", state["time"], values, t0)
    pelvis = recording.channels.get("/sim/pelvis")
    if pelvis is not None:
        _scalars(stream, "/pelvis/height_m", pelvis["time"], pelvis["pos"][:, 2], t0)
