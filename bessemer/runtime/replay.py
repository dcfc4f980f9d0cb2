"""Replaying a recording in the simulator: the recorded commands, open loop, from the recorded start.

The simulated robot gets each tick's recorded command, as the driver got it, and the states it reads
are set beside the recorded ones. A run recorded in `bessemer sim` starts from MuJoCo's own recorded
state, with the band as it was, so a replay reproduces it to numerical noise and any difference is a
fault of the stack's determinism; a run recorded on a robot starts from its first recorded joints and
orientation, feet on the floor, and the difference is the sim-to-real gap.

`policy_actions` re-runs a policy on the recorded observations, so a new policy can be compared with the
one that drove the run on exactly the inputs it saw.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from bessemer.runtime.recorder import INITIAL_STATE
from bessemer.runtime.recording import Recording, RecordingError, check_contract
from robots.g1.joints import NUM_MOTORS, joint_names
from robots.g1.poses import POSES, get_pose
from robots.g1.variants import get_variant
from robots.interface import JointCommand
from sim.robot import SimRobot
from sim.world import WorldConfig

COMMAND_ROWS = ("q", "dq", "tau", "kp", "kd", "enable")


@dataclass
class ReplayResult:
    """Simulated minus recorded, tick by tick from the second recorded state on."""

    start: str
    """`exact` (a simulated run's MuJoCo state) or `joints` (a robot's first joints and orientation)."""
    time: np.ndarray
    joints: list[str]
    """The variant's joints, in DDS order: the columns of the joint errors."""
    q_error: np.ndarray
    dq_error: np.ndarray
    orientation_error: np.ndarray
    """Angle between the simulated and the recorded IMU orientation (rad)."""
    gyro_error: np.ndarray
    position_error: np.ndarray | None
    """Pelvis position (m), where the recording has it (a simulated run)."""
    stopped_at: int | None
    """The first tick the recording lacks (dropped or cut), if the replay could not reach the end."""

    def summary(self) -> dict:
        def stats(err: np.ndarray) -> dict:
            a = np.abs(err)
            return {"rms": float(np.sqrt(np.mean(a ** 2))) if a.size else 0.0, "max": float(a.max(initial=0.0)),
                    "final": float(a[-1]) if len(a) else 0.0}

        pelvis = {"orientation_rad": stats(self.orientation_error),
                  "gyro_rad_s": stats(np.linalg.norm(self.gyro_error, axis=1))}
        if self.position_error is not None:
            pelvis["position_m"] = stats(np.linalg.norm(self.position_error, axis=1))
        return {
            "start": self.start, "ticks": len(self.time),
            "seconds": float(self.time[-1] - self.time[0]) if len(self.time) else 0.0,
            "stopped_at_tick": self.stopped_at,
            "joints": {name: {"q_rad": stats(self.q_error[:, i]), "dq_rad_s": stats(self.dq_error[:, i])}
                       for i, name in enumerate(self.joints)},
            "pelvis": pelvis,
        }


def _contiguous(recording: Recording) -> int:
    """Ticks from the first that are all present on every per-tick channel."""
    state = recording.channels["/robot/state"]["tick"]
    n = min(len(recording.channels[c]) for c in ("/robot/state", "/robot/command"))
    gaps = np.flatnonzero(state[:n] != np.arange(n))
    command = recording.channels["/robot/command"]["tick"][:n]
    gaps = np.union1d(gaps, np.flatnonzero(command != np.arange(n)))
    return int(gaps[0]) if len(gaps) else n


def _world(recording: Recording) -> WorldConfig:
    sim = recording.metadata.get("sim")
    variant = recording.metadata["bessemer"]["variant"]
    if sim is None:
        return WorldConfig(variant=variant)
    known = {f.name for f in dataclasses.fields(WorldConfig)}
    recorded = json.loads(sim["world"])
    return WorldConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in recorded.items() if k in known})


def _start(robot: SimRobot, recording: Recording) -> str:
    sim = recording.metadata.get("sim")
    if sim is not None and INITIAL_STATE in recording.attachments:
        robot.reset(get_pose(sim["spawn_pose"]), band=json.loads(sim["band"]), band_pose=POSES["stand"])
        state = np.frombuffer(recording.attachments[INITIAL_STATE], dtype=np.float64)
        spec = int(sim["state_spec"])
        if state.size != mujoco.mj_stateSize(robot.model, spec):
            raise RecordingError("the recording's MuJoCo state does not fit this stack's G1 model "
                                 "(recorded by another version?): replay it with that version")
        mujoco.mj_setState(robot.model, robot.data, state, spec)
        return "exact"
    first = recording.channels["/robot/state"][0]
    robot.reset(first["q"])
    data = robot.data
    data.qpos[3:7] = first["quat"]
    data.qvel[3:6] = first["gyro"]
    active = robot.variant.active_mask > 0
    for i in np.flatnonzero(active):
        joint = robot.model.joint(joint_names()[i])
        data.qvel[joint.dofadr[0]] = first["dq"][i]
    mujoco.mj_forward(robot.model, data)
    return "joints"


def replay(recording: Recording, on_tick: Callable[[int, int], None] | None = None) -> ReplayResult:
    """Play the recorded commands into a fresh simulated G1; `on_tick(done, total)` reports progress."""
    meta = recording.metadata["bessemer"]
    if int(meta["num_motors"]) != NUM_MOTORS:
        raise RecordingError(f"the recording drives {meta['num_motors']} motors; this stack's G1 has {NUM_MOTORS}")
    robot = SimRobot(_world(recording), control_period=float(meta["period_s"]))
    start = _start(robot, recording)
    total = _contiguous(recording)
    if total < 2:
        raise RecordingError("the recording holds fewer than two whole ticks: nothing to replay")
    state, command = recording.channels["/robot/state"], recording.channels["/robot/command"]
    commands = np.stack([command[row] for row in COMMAND_ROWS], axis=1)
    pelvis = recording.channels.get("/sim/pelvis")
    band = None if pelvis is None else pelvis["band"]
    active = np.flatnonzero(get_variant(meta["variant"]).active_mask > 0)
    steps = total - 1
    q_err, dq_err = np.zeros((steps, len(active))), np.zeros((steps, len(active)))
    angle, gyro_err = np.zeros(steps), np.zeros((steps, 3))
    pos_err = None if pelvis is None or start != "exact" else np.zeros((steps, 3))
    cmd = JointCommand(NUM_MOTORS)
    for k in range(steps):
        if band is not None and k > 0 and robot.band_engaged and not band[k - 1]:
            robot.release_band()
        cmd.values[:] = commands[k]
        robot.write(cmd)
        robot.advance()
        s = robot.read()
        rec = state[k + 1]
        q_err[k] = s.q[active] - rec["q"][active]
        dq_err[k] = s.dq[active] - rec["dq"][active]
        angle[k] = _angle_between(s.quat, rec["quat"])
        gyro_err[k] = s.gyro - rec["gyro"]
        if pos_err is not None and k < len(pelvis):
            pos_err[k] = robot.data.qpos[:3] - pelvis["pos"][k]
        if on_tick is not None and k % 500 == 0:
            on_tick(k, steps)
    names = joint_names()
    return ReplayResult(start=start, time=state["time"][1:total].copy(), joints=[names[i] for i in active],
                        q_error=q_err, dq_error=dq_err, orientation_error=angle, gyro_error=gyro_err,
                        position_error=pos_err, stopped_at=total if total < len(state) else None)


def _angle_between(a: np.ndarray, b: np.ndarray) -> float:
    """Rotation angle between two w-x-y-z quaternions, accurate near zero (where acos of the dot is not)."""
    w = a[0] * b[0] + np.dot(a[1:], b[1:])
    v = a[0] * b[1:] - b[0] * a[1:] - np.cross(a[1:], b[1:])
    return 2.0 * math.atan2(float(np.linalg.norm(v)), abs(float(w)))


def policy_actions(recording: Recording, policy: Path) -> dict:
    """Actions of the policy in `policy` on the recorded observations, beside the recorded ones."""
    from policies.inference import load_module, stored_contract
    import torch

    contract = check_contract(recording)
    if "/policy/observation" not in recording.channels:
        raise RecordingError("the recording holds no policy observations: record a run that reaches state 200")
    frames = stored_contract(policy).get("obs_history", 1)
    if frames != contract.obs_history:
        raise RecordingError(f"{policy} sees {frames} observation frames and the recorded policy saw "
                             f"{contract.obs_history}: replay it with a policy of {contract.obs_history}")
    module = load_module(policy, contract)
    obs = recording.channels["/policy/observation"]["observation"].astype(np.float32)
    recorded = recording.channels["/policy/action"]["action"]
    with torch.inference_mode():
        actions = module(torch.from_numpy(obs)).numpy().astype(np.float64)
    diff = np.abs(actions - recorded[: len(actions)])
    names = [contract.joint_names[i] for i in contract.actuated]
    return {
        "policy": str(policy), "steps": len(obs),
        "action_scale": contract.action_scale,
        "joints": {name: {"rms": float(np.sqrt(np.mean(diff[:, i] ** 2))), "max": float(diff[:, i].max())}
                   for i, name in enumerate(names)},
        "max": float(diff.max(initial=0.0)),
    }
