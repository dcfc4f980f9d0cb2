"""`bessemer sim`: the G1 in MuJoCo under the 500 Hz loop and FSM."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bessemer.commands import CliError, arg_types, require_display
from bessemer.commands.policy_options import load_policy



def run(args: argparse.Namespace) -> int:
    from bessemer.commands import check_outputs, ignoring_interrupts, write_output
    from bessemer.commands.record_options import check_recorded
    from bessemer.runtime.policy_host import InProcessPolicy
    from bessemer.runtime.session import SessionConfig, SimSession
    from bessemer.runtime.low_level import SimLowLevel, LowLevelConfig
    from bessemer.runtime.recorder import Recorder, RecorderConfig
    from bessemer.status import StatusLine, print_summary
    from bessemer.video import VideoRecorder
    from control.external_targets import always
    from control.fsm import FsmId
    from control.loop import LoopConfig
    from sim.rolling_ball import RollingBallConfig
    from sim.world import ROOM_CAMERA, WALLED_ROOM_CAMERA, WorldConfig

    if args.task:
        args.sequence, args.lockstep = (FsmId.STAND_UP, FsmId.START), True
        if args.task == "intercept":
            from bessemer.tasks.intercept_scene import TIME_LIMIT_S
        else:
            from bessemer.tasks.follow_sound_scene import TIME_LIMIT_S

        args.duration = TIME_LIMIT_S
    sequence = args.sequence
    policy = load_policy(args, args.variant) if FsmId.START in sequence else None
    if args.viewer and args.video:
        raise CliError("--viewer and --video cannot be combined: the viewer runs in real time, recording in lock-step")
    if args.viewer:
        require_display("run headless or record with --video")
    if args.rerun:
        from bessemer.commands.view import require_viewer

        require_viewer("record with --record and write a Rerun file with `bessemer view FILE.mcap --save OUT.rrd`")
    check_outputs({"--policy": args.policy if isinstance(args.policy, Path) else None},
                  {"--video": args.video, "--record": args.record, "--summary-json": args.summary_json},
                  keep=("--video", "--record"), force=args.force)
    realtime = not (args.lockstep or args.video)
    world = WorldConfig(variant=args.variant, mesh_dir=Path(args.mesh_dir) if args.mesh_dir else None,
                        target_ball=args.task is not None,
                        walls=RollingBallConfig().room_m if args.task == "intercept" else None)
    low = SimLowLevel(LowLevelConfig(world=world, loop=LoopConfig(realtime=realtime)),
                        policy_alive=always if policy is not None else None)
    session = SimSession(low, SessionConfig(sequence=sequence, duration=args.duration, hold=args.hold,
                                              band=not args.no_band, spawn_pose=args.spawn_pose))
    task = None
    walker = policy
    if policy is not None:
        import torch

        torch.set_num_threads(1)
        if args.task == "follow-sound":
            from bessemer.tasks.follow_sound import FollowSound
            from bessemer.tasks.follow_sound_scene import FollowSoundScene, FollowSoundTask

            policy = FollowSound(policy)
            task = FollowSoundTask(session, policy, FollowSoundScene.from_seed(args.scene_seed))
        elif args.task == "intercept":
            from bessemer.tasks.intercept import Intercept
            from bessemer.tasks.intercept_scene import InterceptScene, InterceptTask
            from perception.ball_predictor import load_shipped
            from perception.ball_tracker import BallTracker

            policy = Intercept(policy, BallTracker(load_shipped()))
            task = InterceptTask(session, policy, InterceptScene.from_seed(args.scene_seed))
        InProcessPolicy(policy, session)
    status = StatusLine()
    session.on_event = status.event
    session.every(25, status.update)
    recorder = viewer = recording = live = None
    recorded: dict | None = None
    streamed: dict | None = None
    try:
        if args.record:
            recording = Recorder(args.record, low.robot.num_motors, RecorderConfig(wait_when_full=not realtime))
            sound = args.task == "follow-sound"
            recording.attach(session, walker, cameras={"head": task.perception} if sound else None,
                             percepts=task if sound else None)
        if args.video:
            camera = {"follow-sound": ROOM_CAMERA, "intercept": WALLED_ROOM_CAMERA}.get(args.task, "follow")
            recorder = VideoRecorder(Path(args.video), low.robot.model, fps=30, camera=camera)
            session.every(round(1 / (30 * low.config.loop.period)), lambda s: recorder.capture(s.low.robot.data))
            status.event(f"recording {args.video} (lock-step: rendering is slower than real time)")
        if args.rerun:
            from bessemer.runtime.rerun_live import LiveRerun

            live = LiveRerun(session)
        if args.viewer:
            import mujoco.viewer

            viewer = mujoco.viewer.launch_passive(low.robot.model, low.robot.data)

            def sync(s: SimSession) -> None:
                if not viewer.is_running():
                    low.loop.stop()
                viewer.sync()

            session.every(16, sync)
        try:
            low.loop.run(session.tick)
        except KeyboardInterrupt:
            session.stopped_early = True
            status.event("interrupted: stopping")
        session.finish()
    finally:
        with ignoring_interrupts():
            status.close()
            if task is not None:
                task.close()
            if recorder is not None:
                recorder.close()
            if recording is not None:
                recorded = recording.close()
            if viewer is not None:
                viewer.close()
            if live is not None:
                streamed = live.close()
    with ignoring_interrupts():
        summary = session.summary()
        if task is not None:
            summary[args.task.replace("-", "_")] = task.summary()
        if recorder is not None:
            summary["video"] = {"path": str(args.video), "frames": recorder.frames}
        if recorded is not None:
            summary["recording"] = recorded
        if streamed is not None:
            summary["rerun"] = streamed
        print_summary(summary)
        if args.summary_json:
            write_output(args.summary_json, json.dumps(summary, indent=2) + "\n", "summary")
    check_recorded(recorded)
    return 1 if summary["sequence"]["refused"] else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    from bessemer.commands.policy_options import add_policy_options

    sim_parser = sub.add_parser("sim", help="run the G1 in MuJoCo under the 500 Hz loop and FSM")
    sim_parser.add_argument("--variant", type=arg_types.variant, default="29dof",
                            help="robot variant: 29dof (default) or 23dof")
    sim_parser.add_argument("--duration", type=arg_types.seconds, default=10.0,
                            help="simulated seconds to hold the final state after the sequence (default 10)")
    sim_parser.add_argument("--sequence", type=arg_types.fsm_sequence, default="4",
                            help="FSM ids to request in order after spawning in damp, e.g. 4,2,4,3,4 (default 4)")
    sim_parser.add_argument("--hold", type=arg_types.seconds, default=1.0,
                            help="seconds each step holds before the next (default 1)")
    sim_parser.add_argument("--lockstep", action="store_true",
                            help="run as fast as the CPU allows instead of real time")
    sim_parser.add_argument("--no-band", action="store_true",
                            help="spawn standing on the floor, without the elastic band")
    sim_parser.add_argument("--spawn-pose", type=arg_types.spawn_pose, default="stand",
                            help="pose to spawn in: stand (default), squat, sit or zero")
    sim_parser.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    sim_parser.add_argument("--video", type=arg_types.output_file, metavar="PATH.mp4",
                            help="record the run headless (runs in lock-step)")
    sim_parser.add_argument("--record", type=arg_types.output_file, metavar="PATH.mcap",
                            help="record every tick's state, command and FSM state, the FSM's events and the "
                                 "policy's targets to an MCAP file (Foxglove, the mcap CLI)")
    sim_parser.add_argument("--rerun", action="store_true",
                            help="stream the run to the Rerun viewer as it runs (needs a display)")
    sim_parser.add_argument("--force", action="store_true", help="overwrite an existing --video or --record file")
    sim_parser.add_argument("--summary-json", type=arg_types.output_file, metavar="PATH",
                            help="write the final summary as JSON")
    sim_parser.add_argument("--mesh-dir", type=arg_types.existing_dir, metavar="DIR",
                            help="folder with Unitree's G1 .STL meshes for visuals (optional)")
    sim_parser.add_argument("--task", choices=["follow-sound", "intercept"],
                            help="follow-sound: a sounding ball in the room; the robot hears it, turns and walks to it "
                                 "(stand-up then state 200 with the walking policy, 30 s, lock-step); intercept: a ball "
                                 "pushed in front of the robot rolls and bounces; the robot walks to where it will stop "
                                 "(40 s after the push, lock-step)")
    sim_parser.add_argument("--scene-seed", type=arg_types.seed, default=0,
                            help="the task's scene: where the ball lies, what it plays (follow-sound) or how it is "
                                 "pushed and how the floor takes it (intercept)")
    add_policy_options(sim_parser)
    sim_parser.set_defaults(func=run)
