"""`bessemer eval --table`: every command of the range in one table, each row judged against a
robot-ready walker's bars on the error of its mean velocity."""

import json

from bessemer.cli import main
from policies.training.eval_table import COMMANDS, Bars, misses


def _row(command, falls=0, forward=0.0, lateral=0.0, yaw=0.0):
    velocity_error = ((forward - command[0]) ** 2 + (lateral - command[1]) ** 2) ** 0.5
    return {"config": {"command": list(command)}, "falls": falls, "seeds": 10,
            "velocity_error_mps": velocity_error, "yaw_rate_error_rps": abs(yaw - command[2])}


def test_a_row_misses_its_bars_for_a_fall_a_slow_walk_a_lopsided_turn_or_a_drifting_stand():
    bars = Bars()
    assert misses(_row((0.5, 0, 0), forward=0.45), bars) == []
    assert misses(_row((0.5, 0, 0), falls=1, forward=0.5), bars) == ["1 of 10 fell"]
    assert misses(_row((1.0, 0, 0), forward=0.76), bars) == ["speed error 0.240 > 0.1 m/s"]
    assert misses(_row((0, 0, -0.5), yaw=-0.16), bars) == ["yaw error 0.340 > 0.15 rad/s"]
    assert misses(_row((0, 0, 0), forward=0.06), bars) == ["drift 0.060 > 0.05 m/s"]
    assert misses(_row((0, 0, 0), yaw=0.3), bars) == [], "standing is judged on its drift"
    loose = Bars.on_another_model()
    assert misses(_row((0.5, 0, 0), forward=0.37), loose) == [] and misses(_row((0, 0, 1.0), yaw=0.5), loose) == []
    assert misses(_row((0.5, 0, 0), forward=0.3), loose) == ["speed error 0.200 > 0.15 m/s"]


def test_the_table_evaluates_every_command_of_the_range_and_says_which_meet_the_bars(tmp_path, capsys):
    summary = tmp_path / "table.json"
    assert main(["eval", "--table", "--seeds", "1", "--seconds", "4", "--summary-json", str(summary)]) == 0
    out = capsys.readouterr().out
    result = json.loads(summary.read_text())
    assert [tuple(r["config"]["command"]) for r in result["rows"]] == list(COMMANDS)
    met = [not misses(r, Bars()) for r in result["rows"]]
    assert result["commands_meeting_bars"] == sum(met)
    table = [line for line in out.splitlines() if line.startswith("| ") and not line.startswith("| command")]
    assert len(table) == len(COMMANDS)
    assert [line.endswith("| yes |") for line in table] == met
    assert f"{sum(met)} of {len(COMMANDS)} commands meet the bars" in out


def test_the_table_refuses_a_command_of_its_own_in_one_line(capsys):
    assert main(["eval", "--table", "--cmd", "1.0,0,0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["bessemer: error: --table evaluates its own commands: drop --cmd"]
