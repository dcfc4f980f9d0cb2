"""A walking policy over the whole command range, as one table: what a G1 owner asks before trusting it.

Each row is one command evaluated over the same seeds (`evaluate.py`), judged against bars for a
robot-ready walker: no falls, the mean velocity within `speed_error` of the command, the mean yaw rate
within `yaw_error`, and standing still drifting less than `stand_drift`. Errors are those of the mean
over an episode, not step by step: a walker's pelvis sways within every step, which no command asks
it to stop.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from policies.inference import LearnedPolicy
from policies.training.evaluate import EvalConfig, evaluate
from sim.foreign_g1 import ForeignG1

COMMANDS: tuple[tuple[float, float, float], ...] = (
    (0.5, 0.0, 0.0), (1.0, 0.0, 0.0), (-0.3, 0.0, 0.0), (0.0, 0.2, 0.0),
    (0.0, 0.0, 0.5), (0.0, 0.0, -0.5), (0.0, 0.0, 1.0), (0.0, 0.0, -1.0), (0.0, 0.0, 0.0))
"""Forward at a walk and at full speed, backward, sideways, both turns at half and full rate, standing."""


@dataclass(frozen=True)
class Bars:
    speed_error: float = 0.1
    """Largest error (m/s) of the mean horizontal velocity."""
    yaw_error: float | None = 0.15
    """Largest error (rad/s) of the mean yaw rate; None: not judged."""
    stand_drift: float = 0.05
    """Largest mean speed (m/s) under a zero command."""

    @classmethod
    def on_another_model(cls) -> Bars:
        """A model the policy never saw (sim-to-sim): speed judged more loosely, yaw not at all."""
        return cls(speed_error=0.15, yaw_error=None)


def misses(result: dict, bars: Bars) -> list[str]:
    """What keeps one row from the bars, in words; empty when it meets them all."""
    command = result["config"]["command"]
    if result["falls"]:
        return [f"{result['falls']} of {result['seeds']} fell"]
    found = []
    standing = not any(command)
    speed_bar = bars.stand_drift if standing else bars.speed_error
    if result["velocity_error_mps"] > speed_bar:
        found.append(f"{'drift' if standing else 'speed error'} {result['velocity_error_mps']:.3f} > {speed_bar:g} m/s")
    if bars.yaw_error is not None and not standing and result["yaw_rate_error_rps"] > bars.yaw_error:
        found.append(f"yaw error {result['yaw_rate_error_rps']:.3f} > {bars.yaw_error:g} rad/s")
    return found


def eval_table(policy: LearnedPolicy, base: EvalConfig, foreign: ForeignG1 | None = None,
               commands: tuple[tuple[float, float, float], ...] = COMMANDS, progress=None) -> list[dict]:
    """One `evaluate` result per command, `base`'s seeds, length and robot for each."""
    rows = []
    for command in commands:
        rows.append(evaluate(policy, replace(base, command=command), foreign=foreign))
        if progress is not None:
            progress(rows[-1])
    return rows


def markdown(rows: list[dict], bars: Bars) -> str:
    """The table as Markdown, one line per command, the last column saying what misses its bar."""
    lines = ["| command (vx, vy, wz) | falls | mean velocity (vx, vy) m/s | mean yaw rate rad/s "
             "| error of the mean: speed / yaw | step by step: speed / yaw | meets the bars |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        def cell(key: str) -> str:
            return "n/a" if r[key] is None else f"{r[key]:.3f}"

        command = ", ".join(f"{v:g}" for v in r["config"]["command"])
        moving = "n/a" if r["forward_mps"] is None else f"{r['forward_mps']:+.2f}, {r['lateral_mps']:+.2f}"
        yaw = "n/a" if r["yaw_rate_rps"] is None else f"{r['yaw_rate_rps']:+.2f}"
        missed = misses(r, bars)
        lines.append(f"| {command} | {r['falls']}/{r['seeds']} | {moving} | {yaw} "
                     f"| {cell('velocity_error_mps')} / {cell('yaw_rate_error_rps')} "
                     f"| {cell('lin_tracking_error_mps')} / {cell('yaw_tracking_error_rps')} "
                     f"| {'yes' if not missed else 'no: ' + '; '.join(missed)} |")
    return "\n".join(lines)
