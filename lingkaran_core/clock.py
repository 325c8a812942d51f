"""The one clock of a process.

A ``Clock`` is any zero-argument callable returning a tz-aware ``datetime``. The composition root
(``lingkaran.app``) creates one at start-up and passes it to everything that needs the time:
the engine, the channels, the WhatsApp sender and its 24 h window check, the dispatcher, the
scheduler, the admin commands. No component has a default clock, so two clocks cannot meet.

``SystemClock`` is the real one; ``OffsetClock`` is the real clock moved by a fixed amount (the
admin CLI's ``--today`` / ``--now``: audit rows, outbox rows and rule decisions then agree on the
chosen instant, and time still moves); ``FixedClock`` stands still until told (tests, demos).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

__all__ = ["WIB", "Clock", "FixedClock", "OffsetClock", "SystemClock", "at_wib", "wib_today"]

WIB: Final = ZoneInfo("Asia/Jakarta")


class Clock(Protocol):
    """Tells the current instant (tz-aware)."""

    def __call__(self) -> datetime: ...


class SystemClock:
    """The real clock, in UTC."""

    __slots__ = ()

    def __call__(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class OffsetClock:
    """``base`` moved by ``offset``: it starts at a chosen instant and then keeps moving."""

    __slots__ = ("base", "offset")

    def __init__(self, base: Clock, offset: timedelta) -> None:
        self.base = base
        self.offset = offset

    @classmethod
    def starting_at(cls, base: Clock, instant: datetime) -> OffsetClock:
        """A clock that reads ``instant`` now."""
        if instant.tzinfo is None:
            raise ValueError("a clock instant must be tz-aware")
        return cls(base, instant - base())

    @classmethod
    def on_day(cls, base: Clock, day: date) -> OffsetClock:
        """A clock on ``day`` (WIB) at the base clock's current time of day, whole days moved."""
        current = base().astimezone(WIB)
        return cls(base, timedelta(days=(day - current.date()).days))

    def __call__(self) -> datetime:
        return self.base() + self.offset

    def __repr__(self) -> str:
        return f"OffsetClock({self.base!r}, {self.offset!r})"


class FixedClock:
    """A clock that only moves when told to (``advance``, or set ``instant``)."""

    __slots__ = ("instant",)

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("a clock instant must be tz-aware")
        self.instant = instant

    def __call__(self) -> datetime:
        return self.instant

    def advance(self, **delta: float) -> None:
        """Move forward by ``timedelta(**delta)``."""
        self.instant += timedelta(**delta)

    def __repr__(self) -> str:
        return f"FixedClock({self.instant.isoformat()})"


def wib_today(clock: Clock) -> date:
    """The clock's current date in Jember (WIB)."""
    return clock().astimezone(WIB).date()


def at_wib(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` WIB as a UTC instant."""
    return datetime.combine(day, time(hour, minute), WIB).astimezone(UTC)
