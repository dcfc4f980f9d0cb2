"""The batched vector env: the single env's physics, observation and reward, many robots at once."""

import mujoco
import numpy as np

from sim.envs.g1_walk import G1WalkEnv
from sim.envs.vector import G1WalkVectorEnv, rotate_into_body


def test_it_steps_like_the_single_env():
    single = G1WalkEnv()
    single.reset(seed=5)
    vector = G1WalkVectorEnv(3, threads=2)
    vector.reset(seed=0)
    for row in range(3):
        mujoco.mj_getState(single.robot.model, single.robot.data, vector.states[row], vector._spec)
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
