"""The feet as the simulator senses them: sole position, sole velocity and floor contact per foot.

Read from MuJoCo sensors (declared in `sim/world.py`), so the single env reads them from `MjData`
and the vector env from the sensor data that `mujoco.rollout` returns, the same numbers both ways.
"""

from __future__ import annotations

import mujoco
import numpy as np

from policies.arrays import like
from sim.world import FOOT_SITES


class FootSensors:
    def __init__(self, model: mujoco.MjModel) -> None:
        def columns(suffix: str) -> np.ndarray:
            spans = []
            for site in FOOT_SITES:
                sid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SENSOR, f"{site}_{suffix}")
                adr, dim = int(model.sensor_adr[sid]), int(model.sensor_dim[sid])
                spans.append(np.arange(adr, adr + dim))
            return np.stack(spans)

        self._pos, self._vel, self._contact = columns("pos"), columns("vel"), columns("contact")[:, 0]

    def read(self, sensordata: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sole positions (n, 2, 3), sole velocities (n, 2, 3) and contact flags (n, 2) of a batch."""
        pos, vel, contact = (like(i, sensordata) for i in (self._pos, self._vel, self._contact))
        return sensordata[:, pos], sensordata[:, vel], sensordata[:, contact] > 0.5
