"""A CPU quota per process, as a container's CPU limit gives each replica (Linux cgroups).

``bench_postgres`` measures how the bot scales with instances. On a machine with few CPUs,
uncapped instances compete with the PostgreSQL server and the load driver for the same cores,
so a second instance mostly takes CPU from the first and from the server: the figure then
measures the machine, not the design. Capping every instance at the same share (the way a
Kubernetes ``resources.limits.cpu`` or ``docker run --cpus`` does, with the kernel's CFS
bandwidth control) keeps the cores the server and the driver need free, so what is left to see
is whether a second instance adds its own work or waits on the first (a lock, a lease, a shared
queue taken in turns).

Both cgroup layouts are handled: v2 (``cpu.max`` in the unified hierarchy) and v1 (the ``cpu``
controller's ``cpu.cfs_quota_us``). Writing there needs root or a delegated subtree;
``CpuCaps.available()`` says why not when it cannot, and the benchmark reports that instead of
a figure.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

PERIOD_US = 100_000  # the kernel's default CFS period
ROOT = Path("/sys/fs/cgroup")


class CpuCaps:
    """``cap(pid)`` puts each process in a cgroup of its own limited to ``cpus`` CPUs.

    ``close()`` removes the groups once their processes have exited (a group with a live
    process in it cannot be removed; such a process is moved back to the root group first).
    """

    def __init__(self, cpus: float, tag: str = "lc-bench") -> None:
        self.cpus = cpus
        self.tag = f"{tag}-{os.getpid()}"
        self._groups: list[Path] = []
        self._v2 = (ROOT / "cgroup.controllers").exists()

    @classmethod
    def available(cls) -> str | None:
        """None when caps can be set here, else the reason they cannot."""
        if (ROOT / "cgroup.controllers").exists():
            control = ROOT / "cgroup.subtree_control"
            try:
                enabled = control.read_text().split()
            except OSError as e:
                return f"cgroup v2 without a readable {control}: {e}"
            if "cpu" not in enabled:
                return "cgroup v2 without the cpu controller enabled for child groups"
            where = ROOT
        elif (ROOT / "cpu" / "cpu.cfs_quota_us").exists():
            where = ROOT / "cpu"
        else:
            return "no cgroup cpu controller (neither v2 cpu.max nor v1 cpu.cfs_quota_us)"
        if not os.access(where, os.W_OK):
            return f"{where} is not writable (needs root or a delegated cgroup)"
        return None

    def _base(self) -> Path:
        return ROOT if self._v2 else ROOT / "cpu"

    def cap(self, pid: int) -> None:
        group = self._base() / f"{self.tag}-{len(self._groups)}"
        group.mkdir()
        self._groups.append(group)
        quota = int(self.cpus * PERIOD_US)
        if self._v2:
            (group / "cpu.max").write_text(f"{quota} {PERIOD_US}\n")
        else:
            (group / "cpu.cfs_period_us").write_text(f"{PERIOD_US}\n")
            (group / "cpu.cfs_quota_us").write_text(f"{quota}\n")
        (group / "cgroup.procs").write_text(f"{pid}\n")  # every thread of the process

    def close(self) -> None:
        for group in self._groups:
            with contextlib.suppress(OSError):
                for pid in (group / "cgroup.procs").read_text().split():
                    (self._base() / "cgroup.procs").write_text(f"{pid}\n")
            for _ in range(50):  # the kernel frees a group a moment after its last exit
                try:
                    group.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
        self._groups.clear()

    def __enter__(self) -> CpuCaps:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
