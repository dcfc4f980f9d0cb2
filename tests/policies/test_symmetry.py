"""The mirror PPO learns from is the simulator's: a mirrored robot, given the mirrored actions, reports
the mirrored observations, step after step."""

import mujoco
import numpy as np
import torch
from tensordict import TensorDict

from policies.contract import PolicyContract
from policies.training.symmetry import Mirror
from sim.envs.g1_walk import G1WalkEnv
from sim.envs.vector import PRIVILEGED_SIZE

CONTRACT = PolicyContract(stand_still_below=0.1)


def twin(names: list[str], name: str) -> tuple[int, float]:
    other = name.replace("left_", "@").replace("right_", "left_").replace("@", "right_")
    return names.index(other), -1.0 if name.endswith(("_roll_joint", "_yaw_joint")) else 1.0


def mirror_robot(source: G1WalkEnv, target: G1WalkEnv) -> None:
    """Put `target`'s simulated robot in the mirror image of `source`'s, every joint included. Both
    sensors are then of the present state (after a step, MuJoCo's are of the last substep's start)."""
    m, src, dst = source.robot.model, source.robot.data, target.robot.data
    mujoco.mj_forward(m, src)
    dst.qpos[:3] = src.qpos[:3] * (1, -1, 1)
    dst.qpos[3:7] = src.qpos[3:7] * (1, -1, 1, -1)
    dst.qvel[:3] = src.qvel[:3] * (1, -1, 1)
    dst.qvel[3:6] = src.qvel[3:6] * (-1, 1, -1)
    names = list(CONTRACT.joint_names)
    for name in names:
        other, sign = twin(names, name)
        j, k = (mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in (name, names[other]))
        dst.qpos[m.jnt_qposadr[k]] = sign * src.qpos[m.jnt_qposadr[j]]
        dst.qvel[m.jnt_dofadr[k]] = sign * src.qvel[m.jnt_dofadr[j]]
    mujoco.mj_forward(target.robot.model, dst)


def test_a_mirrored_robot_given_mirrored_actions_observes_the_mirror_of_what_the_robot_observes():
    mirror = Mirror(CONTRACT)
    a, b = G1WalkEnv(contract=CONTRACT), G1WalkEnv(contract=CONTRACT)
    command = np.array((0.4, 0.15, 0.3))
    a.reset(seed=0, options={"command": command})
    b.reset(seed=0, options={"command": command * (1, -1, -1)})
    rng = np.random.default_rng(0)
    for _ in range(12):
        a.step(rng.uniform(-0.5, 0.5, 12).astype(np.float32))
    mirror_robot(a, b)
    b.gait.steps[:] = a.gait.steps + a.gait.period // 2
    b.last_action[:] = mirror.actions(torch.from_numpy(a.last_action)).numpy()
    errors = []
    for _ in range(10):
        want = mirror.observations(TensorDict({"policy": torch.from_numpy(a._frame())}, batch_size=[1]))
        errors.append(np.abs(b._frame()[0] - want["policy"][0].numpy()).max())
        action = rng.uniform(-0.5, 0.5, 12).astype(np.float32)
        a.step(action)
        b.step(mirror.actions(torch.from_numpy(action)).numpy())
    assert errors[0] < 1e-5, "the mirrored state observes exactly the mirrored observation"
    assert max(errors) < 0.01, f"and keeps doing so as both move: the G1 is mirror-symmetric ({errors})"


def test_the_augmented_batch_is_the_batch_then_its_mirror_and_mirroring_twice_is_the_identity():
    mirror = Mirror(CONTRACT)
    obs = TensorDict({"policy": torch.randn(5, CONTRACT.obs_size), "privileged": torch.randn(5, PRIVILEGED_SIZE)},
                     batch_size=[5])
    actions = torch.randn(5, CONTRACT.action_size)
    both_obs, both_actions = mirror(obs=obs, actions=actions)
    assert both_obs.batch_size[0] == 10 and torch.equal(both_obs["policy"][:5], obs["policy"])
    assert torch.equal(mirror.actions(both_actions[5:]), actions)
    twice = mirror.observations(both_obs[5:])
    assert torch.equal(twice["policy"], obs["policy"]) and torch.equal(twice["privileged"], obs["privileged"])
    privileged = mirror.observations(obs)["privileged"]
    assert torch.equal(privileged[:, 1], -obs["privileged"][:, 1]), "lateral speed flips"
    assert torch.equal(privileged[:, 4:6], obs["privileged"][:, [5, 4]]), "the feet's contacts swap"
