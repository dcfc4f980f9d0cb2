"""`bessemer`: the command line of the stack."""

from __future__ import annotations

import argparse
import os
import sys

from bessemer import commands
from bessemer.commands import CliError
from bessemer.commands import bench as bench_command
from bessemer.commands import bridge as bridge_command
from bessemer.commands import camera_server as camera_server_command
from bessemer.commands import deploy as deploy_command
from bessemer.commands import model as model_command
from bessemer.commands import node as node_command
from bessemer.commands import run as run_command
from bessemer.commands import sim as sim_command
from bessemer.commands import train as train_command
from bessemer.commands import vision as vision_command
from bessemer.commands.policy_options import add_policy_options
from bessemer.commands.stack_options import add_stack_options

if not commands.has_display():
    os.environ.setdefault("MUJOCO_GL", "egl")


def _positive(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bessemer", description="Control stack for the Unitree G1.")
    sub = parser.add_subparsers(dest="command", required=True)

    sim = sub.add_parser("sim", help="run the G1 in MuJoCo under the 500 Hz loop and FSM")
    sim.add_argument("--variant", default="29dof", help="robot variant: 29dof (default) or 23dof")
    sim.add_argument("--duration", type=_positive, default=10.0,
                     help="simulated seconds to hold the final state after the sequence (default 10)")
    sim.add_argument("--sequence", default="4",
                     help="FSM ids to request in order after spawning in damp, e.g. 4,2,4,3,4 (default 4)")
    sim.add_argument("--hold", type=_positive, default=1.0, help="seconds each step holds before the next (default 1)")
    sim.add_argument("--lockstep", action="store_true", help="run as fast as the CPU allows instead of real time")
    sim.add_argument("--no-band", action="store_true", help="spawn standing on the floor, without the elastic band")
    sim.add_argument("--spawn-pose", default="stand", help="pose to spawn in: stand (default), squat, sit or zero")
    sim.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    sim.add_argument("--video", metavar="PATH.mp4", help="record the run headless (runs in lock-step)")
    sim.add_argument("--summary-json", metavar="PATH", help="write the final summary as JSON")
    sim.add_argument("--mesh-dir", metavar="DIR", help="folder with Unitree's G1 .STL meshes for visuals (optional)")
    sim.add_argument("--task", choices=["follow-sound"],
                     help="follow-sound: a sounding ball in the room; the robot hears it, turns and walks to it "
                          "(stand-up then state 200 with the walking policy, 30 s, lock-step)")
    sim.add_argument("--scene-seed", type=int, default=0, help="the task's scene: where the ball lies, what it plays")
    add_policy_options(sim)
    sim.set_defaults(func=sim_command.run)

    bridge = sub.add_parser("bridge", help="serve the simulated G1 over DDS as a real G1 would (domain 1 on lo)")
    bridge.add_argument("--domain", type=int, default=1, help="DDS domain id (default 1, the simulator convention)")
    bridge.add_argument("--iface", default="lo", help="network interface (default lo)")
    bridge.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    bridge.add_argument("--mode-machine", type=int, help="mode_machine to report (default: the variant's, 5 for 29dof)")
    bridge.add_argument("--no-band", action="store_true", help="no elastic band: the robot starts standing on the floor")
    bridge.add_argument("--spawn-pose", default="stand", help="pose to spawn in: stand (default), squat, sit or zero")
    bridge.add_argument("--duration", type=_positive, default=0.0, help="seconds to run (default: until Ctrl-C)")
    bridge.add_argument("--remote-script", metavar="T:KEY[+KEY],...",
                        help="emulated remote presses, e.g. 2:start,8:L2+B (seconds after start)")
    bridge.add_argument("--viewer", action="store_true", help="open the MuJoCo viewer (needs a display)")
    bridge.add_argument("--summary-json", metavar="PATH", help="write the bridge's counters at exit as JSON")
    bridge.set_defaults(func=bridge_command.run)

    deploy = sub.add_parser("deploy", help="run the loop and FSM against a G1 over DDS (--sim: the bridge)")
    target = deploy.add_mutually_exclusive_group(required=True)
    target.add_argument("--sim", action="store_true", help="the bridge: domain 1 on lo")
    target.add_argument("--iface", help="the robot's wired network interface (domain 0)")
    deploy.add_argument("--domain", type=int, help="DDS domain id (default: 1 with --sim, 0 with --iface)")
    deploy.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    deploy.add_argument("--sequence", default="4", help="FSM ids to request after damp, e.g. 4,2,4 (default 4)")
    deploy.add_argument("--duration", type=_positive, default=10.0, help="seconds to hold after the sequence (default 10)")
    deploy.add_argument("--hold", type=_positive, default=1.0, help="seconds each step holds before the next (default 1)")
    deploy.add_argument("--summary-json", metavar="PATH", help="write the final summary as JSON")
    add_policy_options(deploy)
    deploy.set_defaults(func=deploy_command.run)

    run = sub.add_parser("run", help="the whole stack as processes: low-level, policy and perception nodes over ZMQ")
    target = run.add_mutually_exclusive_group(required=True)
    target.add_argument("--sim", action="store_true", help="the low-level node drives the in-process simulation")
    target.add_argument("--iface", help="the low-level node drives a G1 over DDS on this interface")
    run.add_argument("--domain", type=int, default=0, help="DDS domain with --iface (default 0)")
    run.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    run.add_argument("--sequence", default="4,200", help="FSM ids to request once the nodes are up (default 4,200)")
    run.add_argument("--hold", type=_positive, default=1.0, help="seconds each step holds before the next (default 1)")
    run.add_argument("--duration", type=_positive, default=0.0, help="seconds to run after the sequence (default: until Ctrl-C)")
    run.add_argument("--no-band", action="store_true", help="simulation: no elastic band at start")
    run.add_argument("--no-perception", action="store_true", help="do not start the perception node")
    run.add_argument("--target-deadline", type=_positive, default=50.0,
                     help="ms each policy target stays valid: a silent policy damps the robot this long after (default 50)")
    run.add_argument("--summary-json", metavar="PATH", help="write the final status as JSON")
    run.add_argument("--policy", default="wave", metavar="wave|PATH",
                     help="policy node's policy: wave (stand, wave an arm; default), walk (the shipped walking "
                          "policy) or a learned policy file")
    run.add_argument("--cmd", default="0,0,0", metavar="VX,VY,WZ", help="velocity command for a learned walking policy")
    run.add_argument("--follow-sound", type=int, metavar="SEED",
                     help="simulation: the follow-sound scene of SEED; the policy node steers the walking policy "
                          "to the sound with the perception node's percepts")
    add_stack_options(run)
    run.set_defaults(func=run_command.run)

    fsm = sub.add_parser("fsm", help="request an FSM state from a running stack, e.g. `bessemer fsm 1` to damp")
    fsm.add_argument("state_id", help="FSM id: 0 zero torque, 1 damp, 2 squat, 3 sit, 4 stand-up, 200 start")
    add_stack_options(fsm)
    fsm.set_defaults(func=run_command.fsm)

    status = sub.add_parser("status", help="one status line (or --json) from a running stack")
    status.add_argument("--json", action="store_true", help="the whole status as JSON")
    add_stack_options(status)
    status.set_defaults(func=run_command.status)

    keys = sub.add_parser("keys", help="create CURVE keys for a stack whose sockets go beyond loopback")
    keys.add_argument("folder", help="folder to write server and client keys to")
    keys.set_defaults(func=run_command.keys)

    node = sub.add_parser("node", help="one node of the stack (started by `bessemer run`)")
    node.add_argument("kind", choices=("lowlevel", "policy", "perception"))
    node.add_argument("--sim", action="store_true", help="lowlevel: drive the in-process simulation (the default)")
    node.add_argument("--iface", help="lowlevel: drive a G1 over DDS on this interface")
    node.add_argument("--domain", type=int, default=0, help="lowlevel with --iface: DDS domain (default 0)")
    node.add_argument("--variant", default="29dof")
    node.add_argument("--no-band", action="store_true")
    node.add_argument("--rate", type=float, default=None, help="policy 50 Hz, perception 10 Hz by default")
    node.add_argument("--threads", type=int, default=1, help="perception: compute threads (default 1)")
    node.add_argument("--target-deadline", type=_positive, help="policy: ms each target stays valid (default 2.5 periods)")
    node.add_argument("--policy", default="wave", help="policy: wave (default), walk or a learned policy file")
    node.add_argument("--cmd", default="0,0,0", help="policy: velocity command VX,VY,WZ for a learned policy")
    node.add_argument("--camera", metavar="ENDPOINT",
                      help="perception: frames from Unitree's JPEG-over-ZMQ image server at ENDPOINT "
                           "(e.g. tcp://192.168.123.164:5555) instead of the simulated head camera")
    node.add_argument("--camera-size", default="640x480", metavar="WxH",
                      help="perception with --camera: the head camera's frame size (default 640x480)")
    node.add_argument("--g1-microphone", action="store_true",
                      help="perception: tokens from the G1's mono microphone stream (UDP multicast "
                           "239.168.123.161:5555; tokens only, one channel has no bearing)")
    node.add_argument("--mic-interface", default="0.0.0.0", metavar="IP",
                      help="perception with --g1-microphone: this computer's address on the robot's network")
    node.add_argument("--scene-seed", type=int,
                      help="perception in simulation: hear and see the follow-sound scene of this seed")
    node.add_argument("--follow-sound", action="store_true",
                      help="policy: steer the walking policy to the sound the perception node reports")
    add_stack_options(node)
    node.set_defaults(func=node_command.run)

    bench = sub.add_parser("bench", help="benchmark physics, the stack in lock-step, and the real-time loop")
    bench.add_argument("--realtime-seconds", type=_positive, default=60.0, help="length of the real-time run (default 60)")
    bench.add_argument("--lockstep-seconds", type=_positive, default=20.0,
                       help="simulated seconds for the raw-physics and lock-step runs (default 20)")
    bench.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    bench.add_argument("--dds", action="store_true",
                       help="benchmark the DDS path instead: codec, loopback round trip, deploy loop against a bridge")
    bench.add_argument("--perception", action="store_true",
                       help="benchmark perception instead: vision frames/s, audio tokens, sound bearing vs pyroomacoustics")
    bench.add_argument("--envs", action="store_true",
                       help="benchmark the training envs instead: batched vector env vs SyncVectorEnv and physics")
    bench.add_argument("--zmq", action="store_true",
                       help="benchmark the ZMQ hop instead: state -> policy -> targets round trip, loop beside the policy")
    bench.set_defaults(func=bench_command.run)

    train_command.add_parsers(sub, _positive)
    vision_command.add_parsers(sub)

    camera = sub.add_parser("camera-server", help="a stand-in for the G1's image server: a moving pattern as JPEG "
                                                  "over ZMQ, no robot needed")
    camera.add_argument("--endpoint", default="tcp://*:5555", help="ZMQ endpoint to bind (default tcp://*:5555)")
    camera.add_argument("--size", default="640x480", help="WIDTHxHEIGHT of the image sent (default 640x480)")
    camera.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    camera.add_argument("--header", action="store_true", help="send the unit-test header before each JPEG")
    camera.set_defaults(func=camera_server_command.run)

    model = sub.add_parser("model", help="print or write the project's MJCF of the G1")
    model.add_argument("--variant", default="29dof", help="29dof (default) or 23dof")
    model.add_argument("--world", action="store_true", help="include floor, light and elastic band")
    model.add_argument("--mesh-dir", metavar="DIR", help="folder with Unitree's .STL meshes")
    model.add_argument("--out", metavar="PATH", help="write to a file instead of stdout")
    model.set_defaults(func=model_command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CliError, ValueError, FileNotFoundError) as exc:
        print(f"bessemer: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
