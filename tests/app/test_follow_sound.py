"""Walking to a sound: the heading controller's decisions, the seeded scenes, and the senses posed
from the simulator (the closed loop itself is the walking policy's, in tests/policies)."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from bessemer.tasks.follow_sound import FollowSound, FollowSoundConfig, Phase
from bessemer.tasks.follow_sound_scene import ROOM, FollowSoundScene
from bessemer.wire import Percept
from perception.acoustic_scene import SOURCE_KINDS
from policies.inference import SHIPPED_WALK_POLICY
from robots.interface import RobotState

SCENES = range(10)


def walker_state() -> RobotState:
    state = RobotState(29)
    state.quat[:] = (1.0, 0.0, 0.0, 0.0)
    return state


class StubWalker:
    """Stands in for the walking policy: it takes velocity commands and writes no joint targets."""

    name, rate_hz = "stub-walker", 50.0

    def __init__(self):
        self.command = np.zeros(3)
        self.acted_on = []

    def act(self, state, t, targets):
        self.acted_on.append(self.command.copy())


@pytest.fixture
def walker():
    return StubWalker()


def test_a_standing_bearing_error_while_walking_is_integrated_away(walker):
    follow, targets = FollowSound(walker), np.zeros((6, 29))
    turns = []
    for k in range(20):
        follow.act(walker_state(), 0.1 * k, targets)
        follow.perceive(Percept(sound_bearing_deg=12.0))
        turns.append(follow.command[2])
    assert follow.phase == Phase.WALKING and turns[-1] > turns[0] + 0.1 and np.all(np.diff(turns) >= 0)
    assert [c[2] for c in walker.acted_on[1:]] == turns[:-1], "the walker walks each step on the latest command"


def test_it_turns_in_place_toward_a_sound_behind_then_walks_once_it_lies_ahead(walker):
    follow = FollowSound(walker)
    follow.perceive(Percept(sound_bearing_deg=120.0))
    assert follow.phase == Phase.TURNING and follow.command[0] == 0.0 and follow.command[2] == FollowSoundConfig().max_turn
    follow.perceive(Percept(sound_bearing_deg=-40.0))
    assert follow.phase == Phase.TURNING and follow.command[2] < 0
    follow.perceive(Percept(sound_bearing_deg=10.0))
    assert follow.phase == Phase.WALKING and follow.command[0] == 0.5
    assert follow.command[2] == pytest.approx(1.2 * math.radians(10.0))


def test_once_the_camera_sees_the_target_it_steers_on_it_then_walks_the_last_stretch_blind_and_stops(walker):
    follow, targets = FollowSound(walker), np.zeros((6, 29))
    follow.perceive(Percept(sound_bearing_deg=20.0, target_probability=0.9, target_bearing_deg=-8.0,
                            target_distance_m=1.4))
    assert follow.phase == Phase.WALKING and follow.command[2] < 0, "the camera's bearing, not the sound's"
    follow.perceive(Percept(sound_bearing_deg=20.0, target_probability=0.2, target_bearing_deg=-8.0,
                            target_distance_m=0.6))
    assert follow.phase == Phase.WALKING and follow.command[2] > 0, "an unsure camera is not trusted"
    for k in range(19):
        assert follow.phase == Phase.WALKING
        follow.act(walker_state(), 10.0 + 0.1 * k, targets)
        follow.perceive(Percept(target_probability=0.95, target_bearing_deg=2.0, target_distance_m=1.1 - 0.02 * k))
    assert follow.phase == Phase.CREEPING and follow.command[0] == 0.5
    assert follow.approach_speed() == pytest.approx(0.2), "the camera saw it come 0.2 m closer each second"
    assert follow.command[2] == pytest.approx(1.2 * math.radians(2.0)), "steering on the camera"
    follow.perceive(Percept(sound_bearing_deg=60.0))
    assert follow.phase == Phase.CREEPING and follow.command.tolist() == [0.5, 0.0, 0.0], (
        "the target left the view at the feet: walk straight on, deaf to a sound that is now all around")
    stretch = (0.74 - FollowSoundConfig().stop_at_m) / 0.2
    follow.act(walker_state(), 11.8 + stretch - 0.05, targets)
    assert follow.phase == Phase.CREEPING
    follow.act(walker_state(), 11.8 + stretch + 0.05, targets)
    assert follow.phase == Phase.ARRIVED and not follow.command.any()
    follow.perceive(Percept(sound_bearing_deg=60.0))
    assert follow.phase == Phase.ARRIVED and not follow.command.any()


def test_with_nothing_heard_or_seen_it_stands_and_listens(walker):
    follow = FollowSound(walker)
    follow.perceive(Percept(sound_bearing_deg=30.0))
    follow.perceive(Percept(audio_degraded=True, reasons="audio is silent"))
    assert follow.phase == Phase.LISTENING and not follow.command.any()


def test_scenes_are_seeded_clear_of_the_walls_and_all_around_the_robot():
    scenes = [FollowSoundScene.from_seed(seed) for seed in range(40)]
    assert FollowSoundScene.from_seed(3) == scenes[3] and scenes[3] != scenes[4]
    half = np.array(ROOM.size_m[:2]) / 2 - 0.8
    for scene in scenes:
        assert np.all(np.abs(scene.ball_xy) <= half) and 2.0 <= math.hypot(*scene.ball_xy) <= 3.0
    bearings = [math.degrees(math.atan2(s.ball_xy[1], s.ball_xy[0])) for s in scenes]
    assert min(bearings) < -120 and max(bearings) > 120, "some balls lie behind the robot"
    assert any(abs(abs(b) - 90) < 15 for b in bearings), "and some to its side"
    assert {s.kind for s in scenes} == set(SOURCE_KINDS)


@pytest.fixture(scope="session")
def scene_results(tmp_path_factory):
    """A folder every xdist worker of this run shares, for the scenes' summaries."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if "PYTEST_XDIST_WORKER" in os.environ else base) / "follow-sound-scenes"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.mark.acceptance("follow-sound")
@pytest.mark.timeout(180)
@pytest.mark.skipif(not SHIPPED_WALK_POLICY.exists(), reason="the closed loop walks with the shipped walking policy")
@pytest.mark.parametrize("seed", SCENES)
def test_the_robot_walks_to_the_sound_without_falling_in_at_least_9_of_10_scenes(seed, scene_results, tmp_path):
    """One scene per test, so the scenes run in parallel; a scene whose ball is not reached fails only
    when another scene of this run missed too (the summaries written so far are shared)."""
    out = tmp_path / f"scene{seed}.json"
    run = subprocess.run([sys.executable, "-m", "bessemer", "sim", "--task", "follow-sound", "--scene-seed",
                          str(seed), "--summary-json", str(out)], capture_output=True, text=True, timeout=150)
    assert run.returncode == 0, run.stderr
    os.replace(out, scene_results / out.name)
    result = json.loads((scene_results / out.name).read_text())["follow_sound"]
    assert not result["fell"], result
    missed = [r for r in (json.loads(p.read_text())["follow_sound"] for p in sorted(scene_results.glob("scene*.json")))
              if not r["reached"]]
    assert len(missed) <= 1, missed
