"""Perception of a simulated G1: what its head camera sees and its microphones hear, as a `Percept`.

Both senses are posed from the simulator's state each update: the camera renders the world from the
D435i pose, and the mics take the next stretch of a `ListeningRoom` for wherever the head has walked
and turned since, so the bearing the robot steers by is one it had to hear through the room. The same
object serves `bessemer sim` (in the loop's process) and the perception node (on a copy of the world
posed from the simulator's qpos).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mujoco
import numpy as np

from bessemer.wire import Percept
from perception.acoustic_scene import SOURCE_KINDS, HeadPose, PointSource, Room, source_sound
from perception.audio_perception import AudioPerception
from perception.codebook import SHIPPED_CODEBOOK, AudioCodebook
from perception.listening_room import ListeningRoom
from perception.microphones import MicArray
from perception.vision_encoder import load_shipped
from robots.g1.mjcf import HEAD_CAMERA

HEAD_MICS_POS = (0.0, 0.0, 0.46)
"""Centre of the head's mic array in torso_link's frame: the top of the head, an assumed position."""
SOUND_LOOP_S = 8.0
"""Length of the clip a simulated source loops."""


@dataclass(frozen=True)
class SoundScene:
    """A sounding source in a room whose floor plan is centred on the world origin."""

    source: tuple[float, float, float]
    """World position (m) of the source."""
    kind: str = "noise_burst"
    room: Room = field(default_factory=Room)
    snr_db: float = 20.0
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown sound {self.kind!r}: choose one of {', '.join(SOURCE_KINDS)}")

    @property
    def offset(self) -> np.ndarray:
        """World to room coordinates (pyroomacoustics puts the room's corner at its origin)."""
        return np.array([self.room.size_m[0] / 2, self.room.size_m[1] / 2, 0.0])


def head_pose(model: mujoco.MjModel, data: mujoco.MjData, offset: np.ndarray) -> HeadPose:
    torso = model.body("torso_link").id
    rotation = data.xmat[torso].reshape(3, 3)
    position = data.xpos[torso] + rotation @ np.array(HEAD_MICS_POS) + offset
    return HeadPose(tuple(position), math.degrees(math.atan2(rotation[1, 0], rotation[0, 0])))


class SimPerception:
    def __init__(self, model: mujoco.MjModel, sound: SoundScene | None = None) -> None:
        self.model, self.sound = model, sound
        self.array = MicArray.g1_head()
        self.audio: AudioPerception | None = None
        self.room: ListeningRoom | None = None
        if sound is not None:
            signal = source_sound(sound.kind, SOUND_LOOP_S, self.array.sample_rate, seed=sound.seed)
            position = tuple(np.asarray(sound.source) + sound.offset)
            self.room = ListeningRoom(self.array, sound.room, [PointSource(position, signal)], snr_db=sound.snr_db,
                                      seed=sound.seed)
            self.audio = AudioPerception(self.array, AudioCodebook.load(SHIPPED_CODEBOOK))
        self.encoder = load_shipped()
        self.frame: np.ndarray | None = None
        """The head camera's latest frame (224x224 RGB), for whoever wants to see what the robot sees."""
        size = self.encoder.config.image_size
        self.renderer = mujoco.Renderer(model, size, size)

    def update(self, data: mujoco.MjData, dt: float) -> Percept:
        """What the head sensed over the last `dt` seconds, `data` posed at its end."""
        sound_bearing, audio_fault = float("nan"), None
        if self.room is not None and self.audio is not None:
            samples = round(dt * self.array.sample_rate)
            update = self.audio.step(self.room.read(samples, head_pose(self.model, data, self.sound.offset)))
            audio_fault = update.fault
            if update.track is not None:
                sound_bearing = update.track.azimuth_deg
            tokens = update.tokens
        else:
            tokens = np.zeros(0, np.uint16)
        self.renderer.update_scene(data, camera=HEAD_CAMERA)
        self.frame = self.renderer.render()
        sighting = self.encoder.sight(self.frame)
        return Percept(sound_bearing_deg=sound_bearing, target_probability=sighting.present_probability,
                       target_bearing_deg=sighting.bearing_deg, target_distance_m=sighting.distance_m,
                       audio_degraded=audio_fault is not None, tokens=tokens, reasons=audio_fault or "")

    def close(self) -> None:
        self.renderer.close()
