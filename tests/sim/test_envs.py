"""The G1 Gymnasium envs: Gymnasium's own checker, the deployment's PD law and contract, SB3 unchanged."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sim.envs
from policies.contract import PolicyContract
from robots.g1 import joints


@pytest.mark.parametrize("env_id", sim.envs.ENV_IDS)
def test_gymnasium_env_checker_passes(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def test_actions_drive_the_deployment_pd_law_through_the_contract():
    env = gym.make("Bessemer/G1Walk-v0").unwrapped
    env.reset(seed=3, options={"command": (0.5, 0.0, 0.0)})
    contract = env.contract
    action = np.linspace(-1, 1, contract.action_size).astype(np.float32)
    mid_left_swing = 0.8 * (0.55 + 0.45 / 2)
    env.robot.write(env.actions.map(action, mid_left_swing))
    mujoco.mj_forward(env.robot.model, env.robot.data)
    state = env.robot.read()
    q_des = np.array(contract.default_pose)
    q_des[list(contract.actuated)] += contract.action_scale * action
    q_des[[0, 3, 4]] += (-0.25, 0.5, -0.25)  # the reference step at the top of the left leg's swing
    expected = np.array(contract.kp) * (q_des - state.q) + np.array(contract.kd) * (0.0 - state.dq)
    _, _, effort, _ = joints.limits()
    np.testing.assert_allclose(env.robot.data.actuator_force, np.clip(expected, -effort, effort), atol=1e-9)
    assert env.robot.substeps == 10, "a 50 Hz action held over ten 2 ms physics steps, as the 500 Hz loop holds it"
    np.testing.assert_array_equal(np.array(contract.kp)[:6], [100, 100, 100, 150, 40, 40])


def test_observation_is_what_a_real_g1_reports():
    env = gym.make("Bessemer/G1Stand-v0").unwrapped
    obs, info = env.reset(seed=0)
    assert obs.shape == (47,) and np.array_equal(info["command"], np.zeros(3))
    np.testing.assert_allclose(obs[3:6], (0, 0, -1), atol=1e-6)
    assert np.all(np.abs(obs[9:21]) <= env.config.reset_joint_noise + 1e-9)
    np.testing.assert_allclose(obs[45:47], (0.0, 1.0))


def test_an_episode_ends_where_deployment_would_damp():
    env = gym.make("Bessemer/G1Stand-v0").unwrapped
    env.reset(seed=1)
    for _ in range(500):
        _, _, terminated, truncated, _ = env.step(np.zeros(12, dtype=np.float32))
        if terminated or truncated:
            break
    assert terminated, "PD on the default pose with the policy's soft ankles cannot balance: a policy must"


def test_stable_baselines3_ppo_runs_unchanged():
    import torch
    from stable_baselines3 import PPO

    torch.set_num_threads(1)
    for env_id in sim.envs.ENV_IDS:
        model = PPO("MlpPolicy", gym.make(env_id), n_steps=512, batch_size=128, n_epochs=2, seed=0, device="cpu")
        model.learn(total_timesteps=2048)
        assert model.num_timesteps >= 2048


def test_unknown_env_id_is_a_clear_error():
    with pytest.raises(gym.error.NameNotFound, match="G1Run"):
        gym.make("Bessemer/G1Run-v0")


def test_contract_names_the_field_that_differs():
    contract = PolicyContract()
    other = contract.as_dict() | {"action_scale": 0.5}
    assert contract.mismatch(other) == "action_scale (checkpoint 0.5, robot 0.25)"
    assert contract.mismatch(contract.as_dict()) is None
    assert len(contract.hash()) == 16 and contract.hash() == PolicyContract().hash()


def test_targets_stay_inside_the_joint_ranges_however_large_the_action():
    from policies.observation import ActionMapper

    contract = PolicyContract()
    mapper = ActionMapper(contract)
    lower, upper, _, _ = joints.limits()
    actions = np.random.default_rng(0).uniform(-50, 50, (64, contract.action_size))
    q = mapper.targets(actions, np.linspace(0, 1, 64))
    assert (q >= lower).all() and (q <= upper).all()
    assert (q == lower).any() and (q == upper).any(), "large actions reach the ranges' ends"


def test_the_upper_body_moves_as_an_operator_would_within_its_ranges():
    from sim.envs.vector import G1WalkVectorEnv
    from sim.envs.randomization import Randomization
    from sim.envs.upper_body import UpperBodyConfig

    env = G1WalkVectorEnv(8, randomization=Randomization(models=2), threads=1, seed=3)
    env.reset(seed=3)
    contract = env.contract
    upper = [i for i in range(len(contract.joint_names)) if i not in contract.actuated]
    lower_lim, upper_lim, _, _ = joints.limits()
    qs, targets = [], []
    for _ in range(100):
        env.step(np.zeros((8, contract.action_size), dtype=np.float32))
        qs.append(env.states[:, 1 + 7:1 + env.model.nq][:, upper].copy())
        targets.append(env.upper_body.now.copy())
    qs = np.array(qs)
    offsets = np.abs(qs - np.array(contract.default_pose)[upper])
    assert (offsets.max(axis=(0, 2)) > 0.2).sum() >= 3, "most robots' arms and waist move"
    assert (qs >= lower_lim[upper] - 0.05).all() and (qs <= upper_lim[upper] + 0.05).all()
    waist = [k for k, i in enumerate(upper) if "waist" in contract.joint_names[i]]
    reach = (upper_lim - lower_lim)[upper][waist] / 2 * UpperBodyConfig().waist_range_fraction
    aimed = np.abs(np.array(targets) - np.array(contract.default_pose)[upper])[:, :, waist]
    assert len(waist) == 3 and offsets[:, :, waist].max() > 0.05, "the waist moves too"
    assert (aimed <= reach + 1e-9).all() and aimed.max() > reach.min() / 2, "as far as an operator would turn or lean it"
    env.close()
