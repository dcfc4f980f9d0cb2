"""The perception node: what the head senses, turned into percepts at the node's own rate.

In simulation it keeps its own copy of the world, posed from the simulator's state, renders the head
camera (the D435i pose) and, given a sound scene, hears it through the head's mics (`SimPerception`).
On hardware its frames come from the JPEG-over-ZMQ stream of Unitree's image server and its sound
from the G1's mono microphone stream (tokens only: one channel has no bearing). Given the intercept
scene, it rolls the scene's ball a frame at a time from the hand-over to the policy (it follows the
state stream's FSM state), draws it in its world copy and reports the head camera's detection as the target's
bearing and distance from the pelvis, and the scene's truth in its heartbeat for the run's judge. Each tick it
publishes a PERCEPT (the target's detection, sound bearing, audio tokens, what is sounding, what is
degraded and why) and the camera frame as an IMAGE. What is sounding is read from the last second of
tokens, whichever way they came, so simulation and the robot share one classifier. Torch is held to
the threads it is given, since it shares the CPU with the 500 Hz loop. Losing this node never
touches safety: the policy only marks itself degraded.
"""

from __future__ import annotations

import dataclasses

import mujoco
import numpy as np
import torch
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints, start_authenticator
from bessemer.nodes.heartbeat import Heartbeat
from bessemer.nodes.subscriber import NewestOnly
from bessemer.tasks.intercept_perception import InterceptSight
from bessemer.tasks.intercept_scene import InterceptScene
from bessemer.tasks.sim_perception import SimPerception, SoundScene
from perception.audio_perception import StreamingTokenizer, input_fault
from perception.camera_stream import CameraStream, CameraStreamConfig
from perception.codebook import SHIPPED_CODEBOOK, AudioCodebook
from perception.g1_audio_stream import G1AudioStream, G1AudioStreamConfig, StreamState
from perception.sound_classifier import SoundClassifier, StreamingSoundClass
from perception.vision_encoder import load_shipped
from sim.rolling_ball import RollingBallConfig
from sim.world import TARGET_BALL, WorldConfig, build_world


class PerceptionNode:
    def __init__(self, endpoints: Endpoints, variant: str = "29dof", rate_hz: float = 10.0,
                 ctx: zmq.Context | None = None, threads: int = 1, camera: CameraStreamConfig | None = None,
                 microphone: G1AudioStreamConfig | None = None, sound: SoundScene | None = None,
                 ball: InterceptScene | None = None) -> None:
        torch.set_num_threads(threads)
        self.sid = wire.stack_id(endpoints.stack)
        self.ctx = ctx or zmq.Context.instance()
        self._auth = start_authenticator(self.ctx, endpoints)
        self.image_out = endpoints.bind(self.ctx, zmq.PUB, "image")
        self.percept_out = endpoints.bind(self.ctx, zmq.PUB, "percept")
        self.heartbeat = Heartbeat(endpoints.connect(self.ctx, zmq.PUB, "heartbeat"), self.sid, "perception")
        self.rate_hz = rate_hz
        self.frames = 0
        self._seq = 0
        self.pose_in: NewestOnly | None = None
        self.camera: CameraStream | None = None
        self.microphone: G1AudioStream | None = None
        self.sim: SimPerception | None = None
        self.sight: InterceptSight | None = None
        self.state_in: NewestOnly | None = None
        self.sound_class = StreamingSoundClass(SoundClassifier.load())
        self._heard = ""
        if camera is not None:
            self.camera = CameraStream(camera, self.ctx)
            self.encoder = load_shipped()
        if microphone is not None:
            self.microphone = G1AudioStream(microphone)
            self.tokenizer = StreamingTokenizer(AudioCodebook.load(SHIPPED_CODEBOOK))
        if camera is None and microphone is None:
            self.pose_in = NewestOnly(endpoints.connect(self.ctx, zmq.SUB, "pose", latest_only=True), self.sid,
                                      wire.MsgType.SIM_POSE)
            walls = RollingBallConfig().room_m if ball is not None else None
            self.model = build_world(WorldConfig(variant=variant, target_ball=sound is not None or ball is not None,
                                                 walls=walls))
            self.data = mujoco.MjData(self.model)
            if sound is not None:
                self.data.mocap_pos[self.model.body(TARGET_BALL).mocapid[0]] = sound.source
            if ball is not None:
                self.state_in = NewestOnly(endpoints.connect(self.ctx, zmq.SUB, "state", latest_only=True), self.sid,
                                           wire.MsgType.STATE)
                self.sight = InterceptSight(self.model, ball, rate_hz)
                self._fsm_state = 0
            else:
                self.sim = SimPerception(self.model, sound)
            self._pose_stamp: float | None = None
            """When the pose the world copy shows was sent (None: no pose yet): the simulated percept is stamped
            with it, as what the frame shows was true then, however long the render took and however old the
            pose was."""

    def tick(self, k: int) -> bool:
        percept, frame = self._sim_percept() if self.pose_in is not None else self._robot_percept()
        seen_at = self._pose_stamp if self.pose_in is not None else None
        if len(percept.tokens) and (heard := self.sound_class.push(percept.tokens)) is not None:
            self._heard = heard.name
        elif percept.audio_degraded:
            self._heard = ""
        percept = dataclasses.replace(percept, sound_class=self._heard)
        self._seq += 1
        self.percept_out.send_multipart(wire.percept_frames(self.sid, self._seq, percept, seen_at), zmq.NOBLOCK)
        if frame is not None:
            h, w, c = frame.shape
            self.image_out.send_multipart([wire.header(wire.MsgType.IMAGE, self.sid, self._seq),
                                           wire.IMAGE_META.pack(w, h, c), np.ascontiguousarray(frame).tobytes()],
                                          zmq.NOBLOCK)
            self.frames += 1
        if k % max(1, int(self.rate_hz / 4)) == 0:
            task = {"task": self.sight.report(self.data)} if self.sight is not None else {}
            self.heartbeat.send(work=self.frames, degraded=percept.degraded, reason=percept.reasons, **task)
        return True

    def _sim_percept(self) -> tuple[wire.Percept, np.ndarray | None]:
        newest = self.pose_in.take()
        moved = False
        if newest is not None:
            qpos = np.frombuffer(newest[1], dtype=np.float64)
            if qpos.size == self.model.nq:
                self.data.qpos[:] = qpos
                self._pose_stamp = newest[0].stamp
                moved = True
        if self.sight is not None:
            if (state := self.state_in.take()) is not None:
                self._fsm_state = wire.parse_state(state[1]).fsm_id
            self.sight.follow(self._fsm_state)
            self.sight.show(self.data)
            moved = True
        if moved:
            mujoco.mj_kinematics(self.model, self.data)
            mujoco.mj_camlight(self.model, self.data)
        if self._pose_stamp is None:
            return wire.Percept(vision_degraded=True, reasons="no simulator pose yet: is the low-level node running?"), None
        if self.sight is not None:
            return self.sight.update(self.data), self.sight.frame
        return self.sim.update(self.data, 1.0 / self.rate_hz), self.sim.frame

    def _robot_percept(self) -> tuple[wire.Percept, np.ndarray | None]:
        vision, frame = self._camera_percept() if self.camera is not None else ({}, None)
        audio = self._microphone_percept() if self.microphone is not None else {}
        reasons = "; ".join(r for r in (vision.pop("reasons", ""), audio.pop("reasons", "")) if r)
        return wire.Percept(**vision, **audio, reasons=reasons), frame

    def _camera_percept(self) -> tuple[dict, np.ndarray | None]:
        frame = self.camera.poll()
        image = frame.for_encoder(self.encoder.config.image_size)
        if image is None:
            return {"vision_degraded": True, "reasons": frame.message}, None
        sighting = self.encoder.sight(image)
        return {"target_probability": sighting.present_probability, "target_bearing_deg": sighting.bearing_deg,
                "target_distance_m": sighting.distance_m, "vision_degraded": frame.degraded,
                "reasons": frame.message}, image

    def _microphone_percept(self) -> dict:
        samples = self.microphone.read(self.microphone.config.capacity)
        status = self.microphone.status()
        if status.state is not StreamState.OK:
            return {"audio_degraded": status.state is StreamState.STOPPED, "reasons": status.message}
        if not samples.size:
            return {}
        fault = input_fault(samples)
        tokens = self.tokenizer.push(samples[0]) if np.isfinite(samples).all() else np.zeros(0, np.uint16)
        return {"tokens": tokens, "audio_degraded": fault is not None, "reasons": fault or ""}

    def close(self) -> None:
        if self.sim is not None:
            self.sim.close()
        if self.sight is not None:
            self.sight.close()
        if self.camera is not None:
            self.camera.close()
        if self.microphone is not None:
            self.microphone.close()
        socks = [self.image_out, self.percept_out, self.heartbeat.sock]
        socks += [sub.sock for sub in (self.pose_in, self.state_in) if sub is not None]
        for sock in socks:
            sock.close(0)
        if self._auth is not None:
            self._auth.stop()
