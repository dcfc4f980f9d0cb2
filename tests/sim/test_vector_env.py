"""The batched vector env: the single env's physics, observation and reward, many robots at once."""

import mujoco
import numpy as np
import pytest

from sim.envs.g1_walk import G1WalkEnv
from sim.envs.vector import G1WalkVectorEnv, rotate_into_body

FULL_STATE = mujoco.mjtState.mjSTATE_FULLPHYSICS
"""What `states` holds per robot: MuJoCo's time, qpos, qvel, ..."""


def base_xy_velocity(env: G1WalkVectorEnv) -> np.ndarray:
    return env.states[:, 1 + env.model.nq:3 + env.model.nq]


def test_it_steps_like_the_single_env():
    single = G1WalkEnv()
    single.reset(seed=5)
    vector = G1WalkVectorEnv(3, threads=2)
    vector.reset(seed=0)
    for row in range(3):
        mujoco.mj_getState(single.robot.model, single.robot.data, vector.states[row], FULL_STATE)
        vector.commands[row] = single.command
    actions = np.random.default_rng(1).uniform(-1, 1, (20, 12)).astype(np.float32)
    for a in actions:
        obs, reward, *_ = single.step(a)
        vobs, vreward, *_ = vector.step(np.tile(a, (3, 1)))
        np.testing.assert_allclose(vobs, np.tile(obs, (3, 1)), atol=0.02)
        np.testing.assert_allclose(vreward, reward, rtol=0.05, atol=1e-4)
    assert np.ptp(vobs, axis=0).max() == 0.0, "identical robots stay identical across threads"


def test_finished_robots_reset_in_the_same_step():
    vector = G1WalkVectorEnv(8, threads=2)
    obs, info = vector.reset(seed=0)
    assert obs.shape == (8, 47) and info["command"].shape == (8, 3)
    zeros = np.zeros((8, 12), dtype=np.float32)
    for _ in range(200):
        obs, reward, terminated, truncated, info = vector.step(zeros)
        if terminated.any():
            break
    assert terminated.any(), "the zero action cannot balance (see the single env's test)"
    done = info["final_index"]
    assert set(done) == set(np.flatnonzero(terminated | truncated))
    assert np.all(vector.steps[done] == 0) and info["final_obs"].shape == (len(done), 47)
    np.testing.assert_allclose(obs[done, 3:6], np.tile((0, 0, -1), (len(done), 1)), atol=1e-6)
    assert reward.shape == (8,) and obs.dtype == np.float32


def test_rotation_into_the_body_frame_matches_mujoco():
    rng = np.random.default_rng(0)
    quat = rng.normal(size=(6, 4))
    quat /= np.linalg.norm(quat, axis=1, keepdims=True)
    v = rng.normal(size=(6, 3))
    expected = []
    for q, x in zip(quat, v):
        rot = np.zeros(9)
        mujoco.mju_quat2Mat(rot, q)
        expected.append(rot.reshape(3, 3).T @ x)
    np.testing.assert_allclose(rotate_into_body(quat, v), expected, atol=1e-12)


def test_randomized_robots_differ_in_friction_mass_and_gains():
    from sim.envs.randomization import Randomization

    env = G1WalkVectorEnv(16, threads=2, randomization=Randomization(models=8), seed=3)
    env.reset(seed=3)
    nominal = env.variants[0].model
    frictions = {round(v.friction, 4) for v in env.variants}
    masses = [v.model.body_mass.sum() for v in env.variants]
    assert len(frictions) == 8 and min(frictions) >= 0.4 and max(frictions) <= 1.25
    assert np.ptp(masses) > 0.5, "link masses and the torso payload vary between the copies"
    assert all(v.model.geom_friction[0, 0] == v.friction for v in env.variants), "the floor itself"
    kp_scale = np.array([v.kp / env.variants[0].kp for v in env.variants[1:]])
    assert kp_scale.min() >= 0.85 and kp_scale.max() <= 1.15 and np.ptp(kp_scale) > 0.1
    np.testing.assert_array_equal(env.variants[1].model.actuator_biasprm[:, 1], -env.variants[1].kp)
    assert nominal.body_mass.sum() == pytest.approx(env.template.robot.model.body_mass.sum())
    env.close()


def test_an_off_nominal_evaluation_puts_every_robot_on_that_robot_and_nothing_else_changes():
    """`bessemer eval --payload 3 --friction 0.4 --gains 0.85`: no robot meets the nominal model."""
    from sim.envs.randomization import Randomization

    env = G1WalkVectorEnv(6, threads=2, randomization=Randomization.fixed(3.0, 0.4, 0.85), seed=3)
    env.reset(seed=3)
    base = env.template.robot.model
    torso = mujoco.mj_name2id(base, mujoco.mjtObj.mjOBJ_BODY, "torso_link")
    for row in range(6):
        m = env._models[row]
        assert m.body_mass[torso] == pytest.approx(base.body_mass[torso] + 3.0)
        assert m.body_mass.sum() == pytest.approx(base.body_mass.sum() + 3.0), "no other mass changed"
        assert np.all(m.geom_friction[:, 0] == 0.4)
        np.testing.assert_allclose(env._kp[row], 0.85 * np.array(env.contract.kp))
        np.testing.assert_allclose(env._kd[row], 0.85 * np.array(env.contract.kd))
        np.testing.assert_array_equal(m.body_ipos, base.body_ipos)
    unchanged = G1WalkVectorEnv(2, threads=1, randomization=Randomization.fixed(payload_kg=3.0), seed=3)
    np.testing.assert_array_equal(unchanged.variants[0].model.geom_friction, base.geom_friction)
    env.close()
    unchanged.close()


def test_each_robot_steps_on_its_own_model_copy():
    """Robots set to one state and given one action move alike exactly when they share a model copy."""
    from dataclasses import replace

    from sim.envs.randomization import Randomization

    models_only = replace(Randomization.none(), **{k: getattr(Randomization(models=8), k) for k in (
        "models", "friction", "link_mass_scale", "payload_kg", "com_offset_m", "kp_scale", "kd_scale")})
    env = G1WalkVectorEnv(16, threads=2, randomization=models_only, seed=3)
    env.reset(seed=3)
    rows = env.variant.copy()
    assert len(set(rows)) > 1 and len(set(rows)) < 16, "some robots share a copy, some do not"
    env.states[:] = env.states[0]
    env.step(np.zeros((16, 12), dtype=np.float32))
    for a in range(16):
        for b in range(a):
            assert np.array_equal(env.states[a], env.states[b]) == (rows[a] == rows[b]), (a, b, rows)
    env.close()


def test_late_targets_hold_the_previous_ones_for_the_latency():
    """A whole policy step late (10 physics steps), the robot first moves exactly as on the previous
    (default) targets; a few physics steps late, it ends between that and prompt targets."""
    from dataclasses import replace

    from sim.envs.randomization import Randomization

    envs = {name: G1WalkVectorEnv(2, threads=1, randomization=replace(Randomization.none(), latency_steps=(lag, lag)))
            for name, lag in (("step late", 10), ("late", 4), ("prompt", 0), ("still", 0))}
    for env in envs.values():
        env.reset(seed=0)
        env.states[:] = envs["step late"].states
    assert envs["step late"].substeps == 10
    action = np.full((2, 12), 0.8, dtype=np.float32)
    for name in ("step late", "late", "prompt"):
        envs[name].step(action)
    envs["still"].step(np.zeros((2, 12), dtype=np.float32))
    joints = slice(1 + 7, 1 + 7 + 12)
    step_late, late, prompt, still = (envs[k].states[:, joints].copy()
                                      for k in ("step late", "late", "prompt", "still"))
    assert np.array_equal(step_late, still), "10 physics steps on the previous (default) targets"
    assert not np.allclose(late, still) and not np.allclose(late, prompt) and not np.allclose(prompt, still)
    envs["step late"].step(action)
    assert not np.allclose(envs["step late"].states[:, joints], step_late), "then the new targets act"
    for env in envs.values():
        env.close()


def test_a_push_adds_the_velocity_and_a_snapshot_restores_every_robot():
    env = G1WalkVectorEnv(3, threads=1)
    env.reset(seed=1)
    snap = env.snapshot()
    before = base_xy_velocity(env).copy()
    env.push(np.array([1]), np.array([[0.0, 0.5]]))
    np.testing.assert_allclose(base_xy_velocity(env) - before, [[0, 0], [0, 0.5], [0, 0]])
    env.step(np.zeros((3, 12), dtype=np.float32))
    env.restore(snap)
    np.testing.assert_array_equal(env.states, snap["arrays"]["states"])
    a, *_ = env.step(np.zeros((3, 12), dtype=np.float32))
    env.restore(snap)
    b, *_ = env.step(np.zeros((3, 12), dtype=np.float32))
    np.testing.assert_array_equal(a, b)


def test_training_asks_for_straight_walks_turns_on_the_spot_and_side_steps_and_an_eval_for_its_command_only():
    from policies.contract import PolicyContract
    from policies.gait import GaitClock
    from sim.envs.g1_walk import WalkConfig, sample_commands

    contract = PolicyContract(stand_still_below=0.1)
    rng = np.random.default_rng(3)
    config = WalkConfig()
    commands = sample_commands(rng, config, 20000, GaitClock(contract, np.zeros(20000, dtype=int)))
    moving = commands[np.linalg.norm(commands, axis=1) > 0]
    one_axis = (moving != 0).sum(axis=1) == 1
    assert 0.15 < one_axis.mean() < 0.35, "about a fifth of the moving commands steer one axis alone"
    for axis in range(3):
        alone = moving[one_axis & (moving[:, axis] != 0), axis]
        assert alone.size > 500 and alone.max() > 0.9 * config.command_ranges[axis][1]
    held = sample_commands(rng, config.holding((1.0, 0.0, -1.0)), 1000, GaitClock(contract, np.zeros(1000, dtype=int)))
    assert np.all(held == (1.0, 0.0, -1.0))


def test_a_pushed_robot_is_free_of_the_stepping_reference_while_it_recovers_and_a_restore_keeps_that():
    from sim.envs.g1_walk import WalkConfig

    config = WalkConfig()
    env = G1WalkVectorEnv(2, config, threads=1)
    env.reset(seed=2)
    still = np.zeros((2, 12), dtype=np.float32)
    gait_terms = ("contact", "feet_swing_height", "joint_reference")
    *_, info = env.step(still)
    assert all(np.all(info[k] != 0) for k in gait_terms)
    env.push(np.array([0]), np.array([[0.05, 0.0]]))
    snap = env.snapshot()
    recovery = round(config.recovery_seconds / env.contract.control_dt)
    during = [env.step(still)[-1] for _ in range(recovery)]
    after = [env.step(still)[-1] for _ in range(5)]
    for k in gait_terms:
        assert all(info[k][0] == 0 for info in during), f"the pushed robot is free of {k}"
        assert any(info[k][1] != 0 for info in during), f"the other robot still earns {k}"
        assert any(info[k][0] != 0 for info in after), f"{k} holds again once the pushed robot has recovered"
    env.restore(snap)
    *_, info = env.step(still)
    assert info["contact"][0] == 0, "a resumed run knows the push"


def test_the_mean_tracking_terms_judge_the_velocity_over_a_gait_period_not_the_sway_within_steps():
    """Two robots told 0.5 m/s: one sways +-0.3 m/s about it at the step rate, one walks a steady 0.4.
    The mean-tracking term pays the first in full and prices the second's 0.1 m/s miss, which the
    wide instant kernel hardly sees."""
    from policies.contract import PolicyContract
    from sim.envs.g1_walk import LegJoints, WalkBatch, WalkConfig, average_velocity, walk_rewards

    config, contract = WalkConfig(), PolicyContract()
    dt, w = contract.control_dt, config.rewards
    legs = LegJoints.of(contract, config.soft_limit_fraction)
    mean, still = np.zeros((2, 3)), np.zeros((2, 3))
    for t in np.arange(0.0, 5.0, dt):
        lin = np.array([[0.5 + 0.3 * np.sin(2 * np.pi * t / 0.4), 0.0, 0.0], [0.4, 0.0, 0.0]])
        average_velocity(mean, lin, still, config, dt)
    zeros12, feet = np.zeros((2, 12)), np.zeros((2, 2, 3))
    batch = WalkBatch(np.array([[0.5, 0.0, 0.0]] * 2), lin, still, np.array([[1.0, 0, 0, 0]] * 2), np.full(2, 0.78),
                      zeros12, zeros12, zeros12, zeros12, zeros12, feet, feet, np.ones((2, 2), bool),
                      np.ones((2, 2), bool), np.zeros((2, 2)), zeros12, mean)
    _, terms = walk_rewards(config, dt, batch, legs)
    swaying, steady = terms["tracking_mean_lin_vel"] / w.tracking_mean_lin_vel
    assert swaying > 0.95, "the sway within steps is not a miss"
    assert steady < 0.92, "a 0.1 m/s miss costs the mean term over 8 %"
    assert terms["tracking_lin_vel"][1] / w.tracking_lin_vel > 0.95, "the wide instant kernel barely prices it"
