"""Pure run assembler: frame events in, one ``ChannelReading`` per channel frame out.

A reading is emitted as soon as its channel frame arrives (a lost end frame loses
nothing). Frames out of order become ``RunError`` events; frame errors change nothing
here, so a channel whose header or control frame was lost is reported, not guessed.
"""

from __future__ import annotations

from enum import Enum

from .events import (
    AssemblerEvent,
    ChannelMeasured,
    ChannelReading,
    ControlMeasured,
    FrameError,
    FrameEvent,
    RunEnded,
    RunError,
    RunStarted,
)


class RunState(Enum):
    IDLE = "idle"  # no run open
    AWAIT_CONTROL = "await_control"  # header seen
    MEASURING = "measuring"  # header and control seen; channel frames expected


# (state, frame event type) -> (action, next state)
TRANSITIONS: dict[tuple[RunState, type], tuple[str, RunState]] = {
    (RunState.IDLE, RunStarted): ("open_run", RunState.AWAIT_CONTROL),
    (RunState.IDLE, ControlMeasured): ("orphan", RunState.IDLE),
    (RunState.IDLE, ChannelMeasured): ("orphan", RunState.IDLE),
    (RunState.IDLE, RunEnded): ("orphan", RunState.IDLE),
    (RunState.AWAIT_CONTROL, RunStarted): ("replace_run", RunState.AWAIT_CONTROL),
    (RunState.AWAIT_CONTROL, ControlMeasured): ("set_control", RunState.MEASURING),
    (RunState.AWAIT_CONTROL, ChannelMeasured): ("no_control", RunState.AWAIT_CONTROL),
    (RunState.AWAIT_CONTROL, RunEnded): ("no_control", RunState.IDLE),
    (RunState.MEASURING, RunStarted): ("replace_run", RunState.AWAIT_CONTROL),
    (RunState.MEASURING, ControlMeasured): ("orphan", RunState.MEASURING),
    (RunState.MEASURING, ChannelMeasured): ("emit_reading", RunState.MEASURING),
    (RunState.MEASURING, RunEnded): ("close_run", RunState.IDLE),
}


class RunAssembler:
    """Groups frame events into per-channel readings that carry their own raw bytes."""

    def __init__(self) -> None:
        self.state = RunState.IDLE
        self._header: RunStarted | None = None
        self._control: ControlMeasured | None = None
        self._seen: set[int] = set()

    def add(self, event: FrameEvent) -> list[AssemblerEvent]:
        """Take one decoder event; return the readings and run errors it completes."""
        if isinstance(event, FrameError):
            return []
        action, next_state = TRANSITIONS[(self.state, type(event))]
        out: list[AssemblerEvent] = getattr(self, f"_{action}")(event)
        self.state = next_state
        return out

    def _open_run(self, event: RunStarted) -> list[AssemblerEvent]:
        self._header, self._control, self._seen = event, None, set()
        return []

    def _replace_run(self, event: RunStarted) -> list[AssemblerEvent]:
        errors = self._incomplete(f"a new header (run {event.run}) arrived before the end frame")
        return errors + self._open_run(event)

    def _set_control(self, event: ControlMeasured) -> list[AssemblerEvent]:
        self._control = event
        return []

    def _orphan(self, event: ControlMeasured | ChannelMeasured | RunEnded) -> list[AssemblerEvent]:
        where = "while a run was measuring" if self.state is RunState.MEASURING else "with no run open"
        return [RunError("no_header", event.offset, f"{_name(event)} frame {where}", event.raw)]

    def _no_control(self, event: ChannelMeasured | RunEnded) -> list[AssemblerEvent]:
        assert self._header is not None
        detail = f"{_name(event)} frame of run {self._header.run} but its control frame was lost"
        return [RunError("no_control", event.offset, detail, event.raw)]

    def _emit_reading(self, event: ChannelMeasured) -> list[AssemblerEvent]:
        assert self._header is not None and self._control is not None
        run = self._header.run
        if event.channel > self._header.channels:
            detail = f"channel {event.channel} of run {run}, header announced {self._header.channels}"
            return [RunError("channel_out_of_range", event.offset, detail, event.raw)]
        if event.channel in self._seen:
            detail = f"channel {event.channel} sent twice in run {run}"
            return [RunError("duplicate_channel", event.offset, detail, event.raw)]
        self._seen.add(event.channel)
        return [ChannelReading(self._header, self._control, event)]

    def _close_run(self, event: RunEnded) -> list[AssemblerEvent]:
        assert self._header is not None
        header = self._header
        out: list[AssemblerEvent] = []
        # A re-send carries only the unacknowledged channels, so it may send fewer than announced.
        count_ok = event.channels_sent <= header.channels if event.resend else event.channels_sent == header.channels
        if event.run != header.run or not count_ok:
            detail = (
                f"end frame says run {event.run} with {event.channels_sent} channel(s), "
                f"header said run {header.run} with {header.channels}"
            )
            out.append(RunError("end_mismatch", event.offset, detail, event.raw))
        if not event.resend:
            out += self._incomplete("end of run")
        elif len(self._seen) < event.channels_sent:
            detail = f"re-send of run {header.run}: {len(self._seen)} of {event.channels_sent} channel frame(s) arrived"
            out.append(RunError("run_incomplete", header.offset, detail, header.raw))
        self._header = None
        return out

    def _incomplete(self, why: str) -> list[AssemblerEvent]:
        """Report the channels of the open run that never arrived (none when complete)."""
        assert self._header is not None
        missing = sorted(set(range(1, self._header.channels + 1)) - self._seen)
        if not missing:
            return []
        detail = f"run {self._header.run}: channel(s) {missing} missing at {why}"
        return [RunError("run_incomplete", self._header.offset, detail, self._header.raw)]


def _name(event: ControlMeasured | ChannelMeasured | RunEnded) -> str:
    return {ControlMeasured: "control", ChannelMeasured: "channel", RunEnded: "end"}[type(event)]
