"""Every kind of value the command line takes, validated where it enters: one parser per kind.

Each is an argparse `type`: it returns the parsed value or raises `ArgumentTypeError` with what is
wrong and what would do, which argparse prefixes with the option's name. Each also carries `bad`,
values it must refuse, so the test that walks every option of every subcommand can try them: an
option whose type is not one of these fails that test, so no option arrives without its validation.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import os
import re
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

MAX_SECONDS = 7 * 24 * 3600.0
"""Longest run a duration may ask for: a week, so no typo (1e308) becomes a run that never ends."""
DDS_DOMAINS = range(0, 233)
"""CycloneDDS's domain ids (0-232: the port arithmetic of DDSI leaves no room above)."""


def _typed(name: str, bad: tuple[str, ...]) -> Callable[[Callable[[str], Any]], Callable[[str], Any]]:
    def wrap(parse: Callable[[str], Any]) -> Callable[[str], Any]:
        parse.__name__ = name
        parse.bad = bad
        return parse
    return wrap


def _number(text: str, kind: type = float) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def float_in(low: float, high: float, *, low_open: bool = False, what: str = "a number") -> Callable[[str], float]:
    """A finite float in [low, high] (or (low, high] with `low_open`)."""
    bounds = f"{'above' if low_open else 'at least'} {low:g} and at most {high:g}"
    below = f"{low - 1:g}" if not low_open else f"{low:g}"

    @_typed(what.replace(" ", "_"), ("nan", "inf", "-inf", "x", below, f"{high * 10 + 1:g}"))
    def parse(text: str) -> float:
        value = _number(text)
        if value < low or (low_open and value == low) or value > high:
            raise argparse.ArgumentTypeError(f"expected {what} {bounds}, got {text}")
        return value
    return parse


def int_in(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    @_typed(what.replace(" ", "_"), ("x", "1.5", "nan", str(low - 1), str(high + 1)))
    def parse(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got {text}")
        return value
    return parse


seconds = float_in(0.0, MAX_SECONDS, what="seconds")
"""A duration; 0 often means "until Ctrl-C"."""
positive_seconds = float_in(0.0, MAX_SECONDS, low_open=True, what="seconds")
milliseconds = float_in(0.0, 60_000.0, low_open=True, what="milliseconds")
rate_hz = float_in(0.0, 1000.0, low_open=True, what="a rate in Hz")
speed = float_in(0.0, 10.0, what="a speed in m/s")
positive = float_in(0.0, 1e6, low_open=True, what="a positive number")
non_negative = float_in(0.0, 1e6, what="a number")
count = int_in(1, 10**7, what="a count")
seed = int_in(0, 2**32 - 1, what="a seed")
threads = int_in(1, 256, what="a thread count")
port = int_in(1, 65535, what="a TCP port")
base_port = int_in(1, 65535 - 4, what="a first port of five")
dds_domain = int_in(DDS_DOMAINS.start, DDS_DOMAINS.stop - 1, what="a DDS domain id")
byte = int_in(0, 255, what="a byte value")


@_typed("device", ("gpu", "CPU", "cuda:", "cuda:x", "cuda:-1", ""))
def device(text: str) -> str:
    """A compute device as torch and Warp name it: cpu, cuda or cuda:N."""
    if text == "cpu" or re.fullmatch(r"cuda(:[0-9]+)?", text):
        return text
    raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {text!r}")


def choice_of(names: Callable[[], list[str]], what: str) -> Callable[[str], str]:
    """One of a set of names known only when the option is parsed (variants, poses, env ids)."""
    @_typed(what.replace(" ", "_"), ("nosuch", ""))
    def parse(text: str) -> str:
        known = names()
        if text not in known:
            raise argparse.ArgumentTypeError(f"unknown {what} {text!r}: choose one of {', '.join(known)}")
        return text
    return parse


@_typed("velocity_command", ("nan,0,0", "inf,0,0", "0,0", "1,2,3,4", "a,b,c", "", "0,-inf,0", "1e400,0,0"))
def velocity_command(text: str) -> tuple[float, float, float]:
    """VX,VY,WZ: forward and lateral speed (m/s) and yaw rate (rad/s); each finite."""
    parts = text.split(",")
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"expected three numbers VX,VY,WZ (m/s, m/s, rad/s), got {text!r}")
    try:
        values = tuple(_number(p) for p in parts)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected three finite numbers VX,VY,WZ (m/s, m/s, rad/s), got {text!r}") from None
    return values


@_typed("frame_size", ("640", "0x480", "-640x480", "axb", "100000x100000", ""))
def frame_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match or not all(0 < int(v) <= 8192 for v in match.groups()):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, each 1-8192 pixels (e.g. 640x480), got {text!r}")
    return int(match.group(1)), int(match.group(2))


@_typed("ipv4_address", ("not.an.ip", "256.1.1.1", "", "::1"))
def ipv4_address(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an IPv4 address such as 192.168.123.222, got {text!r}") from None


@_typed("host", ("", "not a host", "999.1.1.1", "-x"))
def host(text: str) -> str:
    """An IP address (v4 or v6) or a host name."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not re.fullmatch(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*", text) \
            or re.fullmatch(r"[\d.]+", text):
        raise argparse.ArgumentTypeError(f"expected an IP address or a host name, got {text!r}")
    return text


@_typed("zmq_endpoint", ("5555", "tcp://host", "tcp://h:0", "tcp://h:70000", "udp://h:1", ""))
def zmq_endpoint(text: str) -> str:
    """tcp://HOST:PORT (HOST may be * to bind) or ipc://PATH."""
    if text.startswith("ipc://") and len(text) > 6:
        return text
    match = re.fullmatch(r"tcp://([^:]+|\[[^\]]+\]):(\d+)", text)
    if not match or not 1 <= int(match.group(2)) <= 65535:
        raise argparse.ArgumentTypeError(f"expected tcp://HOST:PORT (port 1-65535) or ipc://PATH, got {text!r}")
    return text


@_typed("sentence", ("", "   ", "two\nlines", "x" * 201))
def sentence(text: str) -> str:
    """A line of words (a dataset's task): printable, 1-200 characters."""
    if not text.strip() or len(text) > 200 or not text.isprintable():
        raise argparse.ArgumentTypeError(f"expected one printable line of 1-200 characters, got {text!r}")
    return text


@_typed("teleop_script", ("1", "1:", "-1:t", "1:Z", "x:t"))
def teleop_script(text: str) -> list[tuple[float, str]]:
    """"3:t,3.5:]]+++" -> teleop key presses at those run seconds."""
    from bessemer.runtime.teleop import KEYS

    presses = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        when, _, keys = item.partition(":")
        try:
            at = _number(when)
        except argparse.ArgumentTypeError:
            at = -1.0
        if at < 0 or not keys or set(keys) - KEYS.keys():
            raise argparse.ArgumentTypeError(f"item {item!r}: expected SECONDS:KEYS with SECONDS >= 0 and keys of "
                                             f"{''.join(KEYS)}, e.g. 3:t")
        presses.append((at, keys))
    if not presses:
        raise argparse.ArgumentTypeError("expected SECONDS:KEYS items, e.g. 3:t,3.5:]]+++")
    return presses


@_typed("name", ("", " ", "a" * 65, "bad\nname"))
def name(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", text):
        raise argparse.ArgumentTypeError(f"expected a name of letters, digits, '.', '_' or '-' (1-64), got {text!r}")
    return text


@_typed("network_interface", ("nosuch0", "", "a" * 20))
def network_interface(text: str) -> str:
    names = [n for _, n in socket.if_nameindex()]
    if text not in names:
        raise argparse.ArgumentTypeError(f"network interface {text!r} does not exist on this machine; "
                                         f"available: {', '.join(names)} (the G1 is usually on the wired one)")
    return text


@_typed("existing_file", ("/nonexistent/file", "/", ""))
def existing_file(text: str) -> Path:
    path = Path(text)
    if not text or not path.is_file():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file (give the path of an existing file)")
    return path


@_typed("existing_dir", ("/nonexistent/dir", "/etc/hostname", ""))
def existing_dir(text: str) -> Path:
    path = Path(text)
    if not text or not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is not a folder (give the path of an existing folder)")
    return path


@_typed("output_file", ("/nonexistent/dir/out.json", "/", "/proc/version", "/dev/full", ""))
def output_file(text: str) -> Path:
    """A file to write: its folder exists and is writable, and it is not a folder or a device."""
    from bessemer.commands import check_writable

    if not text:
        raise argparse.ArgumentTypeError("expected a file name, got an empty one")
    try:
        check_writable(Path(text), "to")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return Path(text)


@_typed("output_dir", ("/nonexistent/dir/run", "/etc/hostname", "/proc/x", ""))
def output_dir(text: str) -> Path:
    """A folder to create or fill: it is not a file, and its parent exists and is writable."""
    path = Path(text)
    if not text:
        raise argparse.ArgumentTypeError("expected a folder name, got an empty one")
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder; give a folder name")
    parent = path.resolve().parent
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(f"cannot create {text}: folder {parent} does not exist")
    where = path if path.exists() else parent
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".bessemer-probe-", dir=where))
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot write into {where}: {exc.strerror}") from None
    return path


@_typed("fsm_state", ("7", "999", "-1", "stand", ""))
def fsm_state(text: str) -> int:
    from control.fsm import parse_state_id

    try:
        return parse_state_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@_typed("fsm_sequence", ("", ",", "4,7", "x", "4,,999"))
def fsm_sequence(text: str) -> tuple:
    """FSM ids in the order to request them, e.g. 4,2,4 (the transitions are checked when the run starts)."""
    from control.fsm import parse_state_id

    items = [s.strip() for s in text.split(",") if s.strip()]
    if not items:
        raise argparse.ArgumentTypeError("expected FSM ids separated by commas, e.g. 4,2,4; got none")
    try:
        return tuple(parse_state_id(s) for s in items)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


@_typed("remote_script", ("x", "2:nosuch", "a:start", "2:", "-1:start"))
def remote_script(text: str) -> list[tuple[float, frozenset[str]]]:
    """"2:start,6:L2+B" -> presses of the emulated remote at those seconds."""
    from robots.remote import KEY_BITS

    presses = []
    for item in filter(None, (p.strip() for p in text.split(","))):
        when, _, keys = item.partition(":")
        combo = frozenset(k for k in keys.split("+") if k)
        try:
            at = _number(when)
        except argparse.ArgumentTypeError:
            raise argparse.ArgumentTypeError(f"item {item!r}: expected SECONDS:KEY[+KEY], e.g. 2:start") from None
        unknown = combo - KEY_BITS.keys()
        if at < 0 or unknown or not combo:
            raise argparse.ArgumentTypeError(f"item {item!r}: expected SECONDS >= 0 and known keys "
                                             f"({', '.join(KEY_BITS)}), e.g. 2:start")
        presses.append((at, combo))
    return sorted(presses, key=lambda p: p[0])


def policy_source(*names: str) -> Callable[[str], str | Path]:
    """A named policy (e.g. walk, wave) or the file of a learned one."""
    @_typed("policy", ("nosuch.pt", "/nonexistent/policy.pt", ""))
    def parse(text: str) -> str | Path:
        if text in names:
            return text
        if text and Path(text).is_file():
            return Path(text)
        raise argparse.ArgumentTypeError(f"{text!r} is neither {' nor '.join(names)} nor a policy file "
                                         "(a `bessemer export` .pt or a training checkpoint)")
    return parse


@_typed("g1_model", ("nosuch", "/nonexistent/g1.xml", "/etc/hostname", ""))
def g1_model(text: str) -> str | Path:
    """Another G1 to run a policy on: `menagerie` (MuJoCo Menagerie's) or an MJCF file (.xml)."""
    path = Path(text)
    if text == "menagerie":
        return text
    if path.suffix.lower() == ".xml" and path.is_file():
        return path
    raise argparse.ArgumentTypeError(f"{text!r} is neither menagerie nor an MJCF file (.xml) of a 29-DoF G1")


def variant_names() -> list[str]:
    from robots.g1.variants import VARIANTS

    return list(VARIANTS)


def pose_names() -> list[str]:
    from robots.g1.poses import POSES

    return list(POSES)


def env_ids() -> list[str]:
    from sim.envs import ENV_IDS

    return list(ENV_IDS)


variant = choice_of(variant_names, "variant")
spawn_pose = choice_of(pose_names, "pose")
env_id = choice_of(env_ids, "env id")
