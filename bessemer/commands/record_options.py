"""`--record`'s outcome, shared by the commands that record: a file that could not be written ends the
command with one line, after the run, its summary and the damping are done."""

from __future__ import annotations

from bessemer.commands import CliError


def check_recorded(recorded: dict | None) -> None:
    if recorded is not None and recorded.get("error"):
        raise CliError(f"--record {recorded['path']}: {recorded['error']}; recording stopped at tick "
                       f"{recorded['written']} of {recorded['ticks']} and the file reads up to the cut (its last "
                       f"whole chunk): free space and record again")
