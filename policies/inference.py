"""A trained policy at run time: observation in, joint targets out, at the contract's 50 Hz.

Loads a TorchScript export (or a training checkpoint directly) and refuses one whose contract
differs from the robot's, naming the field. `act` follows the `Policy` protocol, so the same object
runs in the policy node, in `bessemer sim` and in `bessemer deploy`; `actions` serves batches
(evaluation). Torch threads are the caller's to set: beside the 500 Hz loop, one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from policies.checkpoint import CheckpointError, check_contract, load_checkpoint
from policies.contract import PolicyContract
from policies.actor import CONTRACT_FILE, actor_from_checkpoint
from policies.gait import GaitClock
from policies.observation import ActionMapper, ObservationBuilder, ObservationHistory
from robots.interface import RobotState

SHIPPED_WALK_POLICY = Path(__file__).with_name("assets") / "g1_walk.pt"
"""The walking policy trained with `bessemer train` and shipped with the project."""

STILL_JOINT_SPEED = 0.15
"""rad/s no driven joint may exceed for the robot to count as still."""
STILL_GYRO = 0.1
"""rad/s of body rotation under which the robot counts as still."""
STILL_FOR_S = 0.25
"""How long the stopped robot must stay still before it says it stands: the clock stops as the feet
land, with the legs still swinging at 3-4 rad/s and the pelvis moving at walking speed; the policy
brakes that within 2 s, and a stand taking over before then inherits the momentum and can tip."""


def is_exported_policy(path: Path) -> bool:
    """A TorchScript export, not a training checkpoint (both are zip files)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(name.endswith("constants.pkl") for name in z.namelist())


def load_module(path: Path, contract: PolicyContract) -> torch.nn.Module:
    """The policy network in `path` (a TorchScript export or a training checkpoint), contract checked."""
    if not path.is_file():
        raise CheckpointError(f"no policy at {path}: pass a file from `bessemer export` or `bessemer train`")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"{path} is not a policy file (not a TorchScript export or checkpoint; corrupt?)")
    with zipfile.ZipFile(path) as z:
        scripted = any(name.endswith(f"extra/{CONTRACT_FILE}") for name in z.namelist())
    if not is_exported_policy(path):
        return actor_from_checkpoint(path, contract).as_jit().eval()
    if not scripted:
        raise CheckpointError(f"{path} carries no policy contract; export it with `bessemer export`")
    files = {CONTRACT_FILE: ""}
    try:
        module = torch.jit.load(str(path), map_location="cpu", _extra_files=files)
    except RuntimeError as e:
        raise CheckpointError(f"{path} is not a readable TorchScript policy ({str(e).splitlines()[0]})") from None
    check_contract(path, json.loads(files[CONTRACT_FILE])["contract"], contract)
    return module.eval()


def stored_contract(path: Path) -> dict:
    """The contract a policy file was made under, as stored (empty where the file has none: loading
    it then fails with the reason)."""
    try:
        if not is_exported_policy(path):
            return load_checkpoint(path).get("contract", {})
        files = {CONTRACT_FILE: ""}
        torch.jit.load(str(path), map_location="cpu", _extra_files=files)
        return json.loads(files[CONTRACT_FILE] or "{}").get("contract", {})
    except (CheckpointError, RuntimeError, OSError, ValueError):
        return {}


class LearnedPolicy:
    name = "learned"

    def __init__(self, path: Path, contract: PolicyContract | None = None,
                 command: tuple[float, float, float] = (0.0, 0.0, 0.0)) -> None:
        self.contract = (contract or PolicyContract()).with_choices_of(stored_contract(path))
        self.path = path
        self.module = load_module(path, self.contract)
        self.rate_hz = 1.0 / self.contract.control_dt
        self.command = np.array(command, dtype=float)
        """Velocity command: forward, lateral (m/s) and yaw rate (rad/s)."""
        self.observations = ObservationBuilder(self.contract)
        self.history = ObservationHistory(self.contract.obs_history)
        self.mapper = ActionMapper(self.contract)
        self.last_action = np.zeros(self.contract.action_size, dtype=np.float32)
        self.observation = np.zeros(self.contract.obs_size, dtype=np.float32)
        """The last observation acted on, with `last_action` the action taken on it: what a recording keeps."""
        self._t = np.zeros(1)
        self.gait = GaitClock(self.contract, np.zeros(1, dtype=np.int64))
        self.can_stand_still = self.contract.stand_still_below is not None
        self._zero = np.zeros(3)
        self._driven = np.array(self.contract.actuated)
        self._still_steps = 0
        self._still_needed = max(1, round(STILL_FOR_S / self.contract.control_dt))

    def actions(self, obs: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return self.module(torch.from_numpy(obs)).numpy()

    @property
    def standing(self) -> bool:
        """Whether the policy stands still with both feet down: its reference clock has stopped and
        the robot has been still for `STILL_FOR_S`."""
        return self._still_steps >= self._still_needed

    def act(self, state: RobotState, t: float, targets: np.ndarray) -> None:
        """`t`: seconds since the policy took the robot (0 at the hand-over). A policy that stands
        still runs its reference on its own clock (one step per call), the first policies on `t`."""
        if t == 0.0:
            self.last_action[:] = 0.0
            self.gait.reset(slice(None))
            self._still_steps = 0
        stands_still = self.can_stand_still
        self._t[0] = self.gait.t[0] if stands_still else t
        command = self._zero if stands_still and self.gait.standing(self.command[None])[0] else self.command
        frame = self.observations.build(state.gyro[None], state.quat[None], state.q[None], state.dq[None],
                                        command[None], self.last_action[None], self._t)
        obs = self.history.start(frame) if t == 0.0 else self.history.add(frame)
        self.observation[:] = obs[0]
        action = self.actions(obs)[0]
        self.last_action[:] = action
        np.copyto(targets, self.mapper.map(action, float(self._t[0])).values)
        if stands_still:
            still = (self.gait.stopped(self.command[None])[0] and np.linalg.norm(state.gyro) < STILL_GYRO
                     and np.max(np.abs(state.dq[self._driven])) < STILL_JOINT_SPEED)
            self._still_steps = self._still_steps + 1 if still else 0
            self.gait.advance(self.command[None])
