"""Who used the cores during a measurement: CPU seconds of every process from Linux /proc,
sampled before and after, summed per process tree (the API, the workers), for the load
generator itself, the database and Redis, and everything else on the machine.
"""

import os
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.throughput import cores


@dataclass(frozen=True)
class ProcessTimes:
    """CPU seconds so far of every process (Linux /proc), with parents and names."""

    at: float
    busy: float  # the whole machine's
    cpu: dict[int, float]
    parent: dict[int, int]
    name: dict[int, str]

    @classmethod
    def now(cls) -> "ProcessTimes":
        tick = os.sysconf("SC_CLK_TCK")
        cpu, parent, name = {}, {}, {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            head, rest = raw.rsplit(")", 1)
            fields = rest.split()
            pid = int(entry.name)
            cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
            parent[pid] = int(fields[1])
            name[pid] = head.split("(", 1)[1]
        totals = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(v) for k, v in enumerate(totals[:8]) if k not in (3, 4)) / tick
        return cls(time.monotonic(), busy, cpu, parent, name)

    def tree(self, pid: int) -> set[int]:
        found, frontier = set(), [pid]
        while frontier:
            current = frontier.pop()
            found.add(current)
            frontier.extend(p for p, parent in self.parent.items() if parent == current)
        return found


def cpu_used(before: ProcessTimes, after: ProcessTimes, trees: dict[str, int]) -> dict:
    """Cores used between two snapshots by each named process tree, by this process (the load
    generator), by the database and Redis, and by everything else on the machine (the
    heaviest named: other people's work skews the figures)."""
    window = after.at - before.at
    used = {
        pid: after.cpu[pid] - before.cpu.get(pid, 0.0)
        for pid in after.cpu
        if after.cpu[pid] - before.cpu.get(pid, 0.0) > 0
    }
    result, claimed = {}, set()
    for label, pids in [
        *((label, after.tree(pid) | before.tree(pid)) for label, pid in trees.items()),
        ("load generator", {os.getpid()}),
    ]:
        claimed |= pids
        result[label] = round(sum(used.get(p, 0.0) for p in pids) / window, 2)
    services = {p for p in used if after.name[p] in ("postgres", "redis-server")} - claimed
    result["database + Redis"] = round(sum(used[p] for p in services) / window, 2)
    others = {p: used[p] for p in used if p not in claimed | services}
    result["everything else"] = round(sum(others.values()) / window, 2)
    result["idle"] = round(max(0.0, cores() - (after.busy - before.busy) / window), 2)
    heaviest = sorted(others, key=others.get, reverse=True)[:3]
    result["heaviest other processes"] = [
        f"{after.name[p]} ({others[p] / window:.2f})"
        for p in heaviest
        if others[p] / window >= 0.02
    ]
    return result


def nice_levels(pid: int) -> list[int]:
    """Nice values of ``pid``'s descendants (the worker pool children)."""
    levels = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                rest = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(rest[1]) == pid:
                levels.append(int(rest[16]))
    return levels
