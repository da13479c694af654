"""The demo as a room day: its folder held by one demo at a time, the pace of a real room, one line per
result, a signed checkpoint, and a stopped simulator shown as an outage rather than ending the demo."""

from __future__ import annotations

import fcntl
import os
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import httpx
from rich.console import Console

from .procs import Child, python_module

ROOM_INTERVALS_S = {"sim-enzyme": 120.0, "sim-gold-rtu": 90.0, "sim-gold-tcp": 90.0, "sim-cg8-tcp": 120.0,
                    "sim-astm": 150.0, "sim-line": 180.0}
"""Seconds between results of each simulator at room pace: about five tests a minute in all (the
enzyme analyzer runs four channels at once)."""
CHECKPOINT_EVERY_S = 600.0


class DemoBusy(Exception):
    """Another demo holds the folder."""


def claim_folder(data_dir: Path) -> IO[str]:
    """Hold ``<data_dir>.lock`` for this process (released when it exits); ``DemoBusy`` names the holder.

    The lock sits beside the folder, so wiping the folder never removes the lock of a running demo.
    """
    lock_path = data_dir.with_name(data_dir.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise DemoBusy(f"another demo (pid {holder}) is running in {data_dir}; its folder is left alone. "
                       f"Stop it, or run this one elsewhere: kuaijian demo --data-dir {data_dir}-2 --port 0") from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def room_labeller(room_url: str, sims: list[tuple[str, dict[str, object]]], operator: str) -> Labeller:
    """The technician for the demo's simulators at room pace: one label per sample, four per enzyme run."""
    every = {str(instrument["id"]): (ROOM_INTERVALS_S[name], 4 if name == "sim-enzyme" else 1)
             for name, instrument in sims if name in ROOM_INTERVALS_S}
    return Labeller(room_url, every, operator, "KJ-2412", "2027-06-30")


def at_room_pace(name: str, argv: list[str]) -> list[str]:
    """``argv`` with the simulator's ``--interval`` set to its room pace (unchanged for unknown ones)."""
    if name not in ROOM_INTERVALS_S or "--interval" not in argv:
        return argv
    changed = list(argv)
    changed[changed.index("--interval") + 1] = str(ROOM_INTERVALS_S[name])
    return changed


class ResultPrinter:
    """Prints one terminal line per newly stored result of the site (newest results polled from the API)."""

    def __init__(self, url: str, token: str, site: str, console: Console) -> None:
        self.url, self.token, self.site, self.console = url, token, site, console
        self.seen: set[str] = set()

    def _newest(self) -> list[dict[str, Any]]:
        try:
            answer = httpx.get(f"{self.url}/api/v1/results", params={"site": self.site, "limit": 100},
                               headers={"Authorization": f"Bearer {self.token}"}, timeout=5.0)
        except httpx.HTTPError:
            return []
        return answer.json()["results"] if answer.status_code == 200 else []

    def poll(self) -> int:
        """Print the results not printed yet, oldest first; returns how many."""
        fresh = [item["result"] for item in reversed(self._newest()) if item["result"]["id"] not in self.seen]
        for result in fresh:
            self.seen.add(result["id"])
            self.console.print(line_of(result), highlight=False, markup=False)
        return len(fresh)


def line_of(result: dict[str, Any]) -> str:
    """``09:41:07 ei-01/2  菠菜 @A-12  有机磷…  12.5 %  阴性 [质控: negative_control] [flags]``."""
    instrument = result.get("instrument") or {}
    channel = instrument.get("channel")
    where = f"{instrument.get('id', '?')}{'/' + str(channel) if channel is not None else ''}"
    sample = result.get("sample") or {}
    measured = result.get("measurement") or {}
    qc = result.get("qc") or {}
    words = {"positive": "阳性", "negative": "阴性", "invalid": "无效"}
    parts = [str(result.get("tested_at", ""))[11:19], f"{where:<12}", f"{sample.get('name') or '（未标记）'}"
             f"{' @' + sample['stall'] if sample.get('stall') else ''}", (result.get("test") or {}).get("item", ""),
             f"{measured.get('value', '')} {measured.get('unit', '')}".strip(), words.get(result.get("verdict"), "?")]
    if qc.get("control", "sample") != "sample":
        parts.append(f"[质控 {qc['control']}]")
    if qc.get("flags"):
        parts.append("[" + ", ".join(qc["flags"]) + "]")
    return "  ".join(part for part in parts if part)


def sign_checkpoint(db_url: str, data_dir: Path, console: Console) -> None:
    """Sign (or refresh) today's checkpoint with the LIMS key and say so; a failure is reported, not fatal."""
    done = subprocess.run(python_module("lims_api", "checkpoint", "--db", db_url, "--data-dir", str(data_dir)),
                          capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    last = next((line for line in lines if "envelope(s)" in line), lines[-1] if lines else "")
    if done.returncode == 0:
        console.print(f"[green]checkpoint signed[/green] {last}")
    else:
        console.print(f"[red]checkpoint failed[/red] {done.stderr.strip().splitlines()[-1:]}")


def stopped_simulators(children: Iterable[Child], reported: set[str], console: Console) -> None:
    """Report each simulator that exited, once: its instrument is now an outage the pages show."""
    for child in children:
        if child.name.startswith("sim-") and child.name not in reported and child.process.poll() is not None:
            reported.add(child.name)
            console.print(f"[yellow]{child.name} stopped[/yellow] (exit {child.process.returncode}; "
                          f"log {child.log_path}): its instrument shows offline on the room page, status and "
                          "console until it is back; the demo goes on")


PRODUCE = {
    "enzyme": [("菠菜", "vegetable", "A-01"), ("小白菜", "vegetable", "A-12"), ("韭菜", "vegetable", "A-07"),
               ("豇豆", "vegetable", "B-03"), ("芹菜", "vegetable", "A-02"), ("苹果", "fruit", "C-05")],
    "gold": [("猪肉", "meat", "D-01"), ("牛肉", "meat", "D-04"), ("草鱼", "aquatic", "E-02"), ("鸡肉", "meat", "D-09")],
    "other": [("腌菜", "other", "F-03"), ("粉丝", "other", "F-07"), ("黄瓜", "vegetable", "B-11")],
}
"""What the demo technician labels, by the kind of test the instrument runs (name, category, stall)."""
CONTROL_RUNS = (("negative_control", "阴性质控品"), ("positive_control", "阳性质控品"))
"""The controls the demo technician runs first each day on every instrument, with its one kit lot."""


def produce_for(instrument: str) -> list[tuple[str, str, str]]:
    """The samples an instrument of the demo tests: vegetables for the enzyme analyzer, meat for strip readers."""
    if instrument.startswith("ei-"):
        return PRODUCE["enzyme"]
    if instrument.startswith(("gr-", "cg8-")):
        return PRODUCE["gold"]
    return PRODUCE["other"]


class Labeller(threading.Thread):
    """The demo's technician: queues a label on the room page for each instrument's next run, at its pace;
    the first two runs of each instrument are the day's negative and positive control of the kit lot."""

    def __init__(self, room_url: str, every_s: dict[str, tuple[float, int]], operator: str, kit_lot: str,
                 kit_expiry: str) -> None:
        """``every_s``: instrument -> (seconds between its runs, samples per run)."""
        super().__init__(name="demo-labeller", daemon=True)
        self.room_url, self.every_s, self.operator = room_url, every_s, operator
        self.kit_lot, self.kit_expiry = kit_lot, kit_expiry
        self.stop = threading.Event()
        self.posted = 0

    def post(self, instrument: str, n: int) -> bool:
        """Queue one label for ``instrument`` (any channel); True when the room page took it."""
        name, category, stall = produce_for(instrument)[n % len(produce_for(instrument))]
        return self._queue({"instrument": instrument, "name": name, "category": category, "stall": stall})

    def post_controls(self, instrument: str, pending: list[tuple[str, str]]) -> bool:
        """Queue ``pending`` controls (kind, name) of the kit lot, removing each one taken; True when none is left."""
        for control, name in list(pending):
            if self._queue({"instrument": instrument, "control": control, "name": name, "category": "other"}):
                pending.remove((control, name))
        return not pending

    def _queue(self, fields: dict[str, str]) -> bool:
        form = {"channel": "any", "operator": self.operator, "kit_lot": self.kit_lot, "kit_expiry": self.kit_expiry,
                **fields}
        try:
            answer = httpx.post(f"{self.room_url}/labels", data=form, follow_redirects=False, timeout=5.0)
        except httpx.HTTPError:
            return False
        return answer.status_code == 303

    def run(self) -> None:
        due = {instrument: 0.0 for instrument in self.every_s}
        controls = {instrument: list(CONTROL_RUNS) for instrument in self.every_s}
        started = time.monotonic()
        while not self.stop.wait(1.0):
            now = time.monotonic() - started
            for instrument, (every, per_run) in self.every_s.items():
                if controls[instrument] and now >= due[instrument] and not self.post_controls(
                        instrument, controls[instrument]):
                    due[instrument] = now + 2.0  # the page not up yet: try again soon
                    continue
                if now >= due[instrument]:
                    taken = sum(self.post(instrument, self.posted + k) for k in range(per_run))
                    self.posted += taken
                    due[instrument] = now + (every if taken else 2.0)  # the page not up yet: try again soon
