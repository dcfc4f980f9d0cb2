"""`bessemer view FILE.mcap`: a recording in Rerun; `--save OUT.rrd` where no viewer can open."""

from __future__ import annotations

import argparse
import shutil

from bessemer.commands import CliError, arg_types, has_display


def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_outputs

    check_outputs({"FILE": args.file}, {"--save": args.save})
    if args.save is None:
        require_viewer("pass --save OUT.rrd and open it with `rerun OUT.rrd` where there is one")
    import rerun as rr

    from bessemer.runtime.recorder import PERCEPT
    from bessemer.runtime.recording import RecordingError, check_recording
    from bessemer.runtime.rerun_view import ViewConfig, blueprint, log_recording

    try:
        recording = check_recording(args.file)
    except RecordingError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    stream = rr.RecordingStream("bessemer", recording_id=f"{args.file.name}")
    config = ViewConfig(fps=args.fps, mesh_dir=args.mesh_dir)
    if args.save is None:
        stream.spawn(default_blueprint=blueprint(tuple(recording.cameras), PERCEPT in recording.channels))
        logged = log_recording(recording, stream, config)
        stream.flush()
        print(f"sent {args.file} to the Rerun viewer: {_said(logged)}")
        return 0
    partial = args.save.with_name(f".{args.save.name}.partial")
    try:
        stream.save(partial, default_blueprint=blueprint(tuple(recording.cameras), PERCEPT in recording.channels))
        logged = log_recording(recording, stream, config)
        stream.flush()
        stream.disconnect()
        partial.replace(args.save)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise CliError(f"could not write --save {args.save}: {exc.strerror}") from None
    print(f"wrote {args.save} ({args.save.stat().st_size / 1e6:.1f} MB): {_said(logged)}; open it with "
          f"`rerun {args.save}`")
    return 0


def require_viewer(instead: str) -> None:
    """The Rerun viewer opens only where there is a display and its binary; else one line saying what to do."""
    if not has_display():
        raise CliError(f"no display for the Rerun viewer (DISPLAY and WAYLAND_DISPLAY are unset): {instead}")
    if shutil.which("rerun") is None:
        raise CliError(f"the Rerun viewer (`rerun`, from rerun-sdk) is not on PATH: {instead}")


def _said(logged: dict) -> str:
    return (f"{logged['frames']} robot poses, {logged['joints']} joints, {logged['fsm_changes']} FSM states, "
            f"{logged['events']} events, {logged['policy_steps']} policy steps, "
            f"{logged['camera_frames']} camera frames, {logged['percepts']} percepts")


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("view", help="show a recording in Rerun: the robot moving, joint and command plots, "
                                         "the FSM timeline with faults, camera frames")
    parser.add_argument("file", type=arg_types.existing_file, metavar="FILE.mcap",
                        help="a recording from --record (bessemer sim or deploy)")
    parser.add_argument("--save", type=arg_types.output_file, metavar="OUT.rrd",
                        help="write a Rerun file instead of opening the viewer (headless machines; open it with "
                             "`rerun OUT.rrd`)")
    parser.add_argument("--fps", type=arg_types.rate_hz, default=50.0,
                        help="robot poses per second in the 3D view (default 50); plots keep every tick")
    parser.add_argument("--mesh-dir", type=arg_types.existing_dir, metavar="DIR",
                        help="folder with Unitree's G1 .STL meshes, drawn instead of the model's capsules")
    parser.set_defaults(func=run)
