"""The project's MJCF against the reference description: kinematics, mass, joints, sensors."""

import json

import mujoco
import numpy as np
import pytest

from robots.g1 import joints
from robots.g1.mjcf import HEAD_CAMERA, robot_xml
from robots.g1.variants import VARIANTS, get_variant

REFERENCE = json.loads(joints.REFERENCE_PATH.read_text())


def quat_to_mat(q):
    w, x, y, z = np.asarray(q) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def axis_angle(axis, angle):
    a = np.asarray(axis, float) / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def reference_fk(base_pos, base_rot, q_by_joint):
    """Body positions from the reference's frames alone, written independently of the MJCF builder."""
    joint_of_body = {j["body"]: j for j in REFERENCE["joints"]}
    frames = {}
    for body in REFERENCE["bodies"]:
        if body["parent"] == "world":
            frames[body["name"]] = (np.asarray(base_pos, float), base_rot)
            continue
        p_pos, p_rot = frames[body["parent"]]
        pos = p_pos + p_rot @ np.asarray(body["pos"])
        rot = p_rot @ quat_to_mat(body["quat"])
        if body["name"] in joint_of_body:
            j = joint_of_body[body["name"]]
            rot = rot @ axis_angle(j["axis"], q_by_joint[j["name"]])
        frames[body["name"]] = (pos, rot)
    return {name: pos for name, (pos, _) in frames.items()}


def test_forward_kinematics_matches_reference_at_random_configurations():
    model = mujoco.MjModel.from_xml_string(robot_xml("29dof"))
    data = mujoco.MjData(model)
    rng = np.random.default_rng(7)
    table = joints.joint_table()
    for _ in range(40):
        q = np.array([rng.uniform(j.lower, j.upper) for j in table])
        base_pos = rng.uniform(-1, 1, 3)
        base_quat = rng.normal(size=4)
        base_quat /= np.linalg.norm(base_quat)
        data.qpos[:3] = base_pos
        data.qpos[3:7] = base_quat
        for j in table:
            data.qpos[model.jnt_qposadr[model.joint(j.name).id]] = q[j.dds_index]
        mujoco.mj_kinematics(model, data)
        expected = reference_fk(base_pos, quat_to_mat(base_quat), {j.name: q[j.dds_index] for j in table})
        for name, pos in expected.items():
            np.testing.assert_allclose(data.body(name).xpos, pos, atol=1e-3, err_msg=name)


def test_total_mass_within_half_a_percent():
    model = mujoco.MjModel.from_xml_string(robot_xml("29dof"))
    assert model.body_subtreemass[0] == pytest.approx(REFERENCE["total_mass"], rel=0.005)
    assert REFERENCE["total_mass"] == pytest.approx(33.34, abs=0.01)


def test_joint_table_is_in_dds_order_with_reference_limits():
    table = joints.joint_table()
    assert [j.dds_index for j in table] == list(range(29))
    assert table[0].name == "left_hip_pitch_joint"
    assert table[12].name == "waist_yaw_joint"
    assert table[15].name == "left_shoulder_pitch_joint"
    assert table[28].name == "right_wrist_yaw_joint"
    model = mujoco.MjModel.from_xml_string(robot_xml("29dof"))
    for j in table:
        mj = model.joint(j.name)
        np.testing.assert_allclose(mj.range, (j.lower, j.upper))
        assert mj.armature[0] == pytest.approx(j.armature)
        act = model.actuator(j.name.removesuffix("_joint"))
        np.testing.assert_allclose(act.forcerange, (-j.effort_limit, j.effort_limit))


def test_model_carries_imus_feet_and_head_camera():
    model = mujoco.MjModel.from_xml_string(robot_xml("29dof"))
    for sensor in ("pelvis_quat", "pelvis_gyro", "pelvis_accel", "torso_quat", "torso_gyro", "torso_accel"):
        model.sensor(sensor)
    for site in ("imu_in_pelvis", "imu_in_torso", "left_foot", "right_foot"):
        model.site(site)
    cam = model.camera(HEAD_CAMERA)
    assert model.body(cam.bodyid[0]).name == "torso_link"
    np.testing.assert_allclose(cam.pos, (0.0576, 0.0175, 0.4299))
    data = mujoco.MjData(model)
    data.qpos[3] = 1.0
    mujoco.mj_forward(model, data)
    view_dir = -data.cam_xmat[cam.id].reshape(3, 3)[:, 2]
    assert view_dir[0] > 0 and np.arcsin(-view_dir[2]) == pytest.approx(0.8308, abs=1e-3)


def test_23dof_variant_locks_its_missing_joints_and_keeps_29_slots():
    v = get_variant("23dof")
    assert v.mode_machine == 4 and VARIANTS["29dof"].mode_machine == 5
    model = mujoco.MjModel.from_xml_string(robot_xml(v))
    assert model.nu == 23 and model.nv == 6 + 23
    names = {model.joint(i).name for i in range(model.njnt)}
    for idx in (13, 14, 20, 21, 27, 28):
        assert joints.joint_table()[idx].name not in names
    assert model.body_subtreemass[0] == pytest.approx(REFERENCE["total_mass"], rel=0.005)
    assert list(v.active_mask).count(0.0) == 6


def test_unknown_variant_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown G1 variant 'g2'.*29dof, 23dof"):
        get_variant("g2")


def test_mesh_dir_replaces_primitive_visuals(tmp_path):
    stl = tmp_path / "pelvis.STL"
    tris = np.array([[0, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [0, 0, 0.1]], np.float32)
    faces = [(0, 2, 1), (0, 1, 3), (0, 3, 2), (1, 2, 3)]
    with stl.open("wb") as f:
        f.write(b"\0" * 80 + np.uint32(len(faces)).tobytes())
        for a, b, c in faces:
            f.write(np.zeros(3, np.float32).tobytes() + tris[a].tobytes() + tris[b].tobytes() + tris[c].tobytes() + b"\0\0")
    model = mujoco.MjModel.from_xml_string(robot_xml("29dof", tmp_path))
    assert model.nmesh == 1 and model.mesh(0).name == "pelvis"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        robot_xml("29dof", tmp_path / "missing")


def test_a_limp_g1_hanging_by_its_pelvis_settles_within_five_seconds():
    """Joint friction and damping: with zero torque, swinging limbs come to rest as a real robot's do."""
    model = mujoco.MjModel.from_xml_string(robot_xml())
    model.actuator_gainprm[:] = 0.0
    model.actuator_biasprm[:] = 0.0
    data = mujoco.MjData(model)
    data.qpos[2] = 1.2
    data.qvel[6:] = np.random.default_rng(0).uniform(-2.0, 2.0, model.nv - 6)
    pelvis = data.qpos[:7].copy()
    for _ in range(round(5.0 / model.opt.timestep)):
        data.qpos[:7], data.qvel[:6] = pelvis, 0.0
        mujoco.mj_step(model, data)
    assert np.abs(data.qvel[6:]).max() < 0.1
    assert all(j.frictionloss > 0 and j.damping > 0 for j in joints.joint_table())
