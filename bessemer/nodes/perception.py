"""The perception node: in simulation, frames from the G1's head camera at its own rate.

It keeps its own copy of the world, posed from the simulator's state, and renders the head
camera (the D435i pose) offscreen; frames go out as raw RGB images. Losing this node never
touches safety: the policy only marks itself degraded.
"""

from __future__ import annotations

import os

import mujoco
import numpy as np
import zmq

from bessemer import wire
from bessemer.endpoints import Endpoints, start_authenticator
from bessemer.nodes.heartbeat import Heartbeat
from bessemer.nodes.subscriber import NewestOnly
from robots.g1.mjcf import HEAD_CAMERA
from sim.world import WorldConfig, build_world


class PerceptionNode:
    def __init__(self, endpoints: Endpoints, variant: str = "29dof", width: int = 160, height: int = 120,
                 rate_hz: float = 10.0, ctx: zmq.Context | None = None, threads: int = 1) -> None:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))
        self.sid = wire.stack_id(endpoints.stack)
        self.ctx = ctx or zmq.Context.instance()
        self.pose_in = NewestOnly(endpoints.connect(self.ctx, zmq.SUB, "pose", latest_only=True), self.sid,
                                  wire.MsgType.SIM_POSE)
        self._auth = start_authenticator(self.ctx, endpoints)
        self.image_out = endpoints.bind(self.ctx, zmq.PUB, "image")
        self.percept_out = endpoints.bind(self.ctx, zmq.PUB, "percept")
        self.heartbeat = Heartbeat(endpoints.connect(self.ctx, zmq.PUB, "heartbeat"), self.sid, "perception")
        self.model = build_world(WorldConfig(variant=variant))
        self.data = mujoco.MjData(self.model)
        self.renderer = mujoco.Renderer(self.model, height, width)
        self.rate_hz = rate_hz
        self.frames = 0
        self._seq = 0
        self._posed = False

    def tick(self, k: int) -> bool:
        newest = self.pose_in.take()
        if newest is not None:
            qpos = np.frombuffer(newest[1], dtype=np.float64)
            if qpos.size == self.model.nq:
                self.data.qpos[:] = qpos
                mujoco.mj_kinematics(self.model, self.data)
                mujoco.mj_camlight(self.model, self.data)
                self._posed = True
        if self._posed:
            self.renderer.update_scene(self.data, camera=HEAD_CAMERA)
            image = self.renderer.render()
            self._seq += 1
            h, w, c = image.shape
            self.image_out.send_multipart([wire.header(wire.MsgType.IMAGE, self.sid, self._seq),
                                           wire.IMAGE_META.pack(w, h, c), image.tobytes()], zmq.NOBLOCK)
            self.frames += 1
            self.percept_out.send_multipart(wire.percept_frames(self.sid, self._seq, wire.Percept()), zmq.NOBLOCK)
        if k % max(1, int(self.rate_hz / 4)) == 0:
            self.heartbeat.send(work=self.frames)
        return True

    def close(self) -> None:
        self.renderer.close()
        for sock in (self.pose_in.sock, self.image_out, self.percept_out, self.heartbeat.sock):
            sock.close(0)
        if self._auth is not None:
            self._auth.stop()
