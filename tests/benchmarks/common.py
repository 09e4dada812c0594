"""Shared pieces of the benchmark scripts: shop sizes, peak memory, machine facts.

A size names the simulated shop (a profile of `conf/simulator.yml`) and the matching workload
of every stage: one day of events for the ingest benchmark has as many rows as a day of that
shop, the feature gate validates one row per user, training and scoring use that many users.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class BenchSize:
    """One shop size and the workload each stage measures at that size."""

    name: str
    profile: str  # simulator profile (users, items, merchants over `days` days)
    users: int
    days: int
    day_events: int  # rows of one day of events (ingest benchmark)
    train_users: int  # users of the synthetic marts the propensity model trains on
    repeat: int  # best of N where a stage repeats a measurement

    def as_dict(self) -> dict:
        return asdict(self)


# `make bench` runs the three sizes `small`, `medium` and `large` (the simulator profiles `demo`,
# `small` and `midsize`), chosen so that all three finish in about half an hour on two cores.
# `xlarge` (the `medium` profile, 100k users) runs only when asked for with `--size xlarge`: it
# takes well over an hour. A day of events is about 1.27 events per user (11.4M events for 100k
# users x 90 days); training uses fewer users than scoring: its matrix has one row per user and
# as-of date.
SIZES = {
    "small": BenchSize("small", "demo", 2_000, 90, 2_540, 5_000, 3),
    "medium": BenchSize("medium", "small", 10_000, 90, 12_700, 10_000, 3),
    "large": BenchSize("large", "midsize", 25_000, 90, 31_750, 15_000, 3),
    "xlarge": BenchSize("xlarge", "medium", 100_000, 90, 127_000, 20_000, 2),
}
DEFAULT_SIZES = ("small", "medium", "large")


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its waited-for children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def machine_info() -> dict:
    """CPU model, cores, RAM and the PostgreSQL server version the benchmarks ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:  # no /proc (not Linux): keep the platform module's answer
        pass
    ram_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gib": round(ram_gib, 1),
        "postgres": postgres_version(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def postgres_version() -> str:
    from aimass.testing import admin_url

    try:
        import psycopg2

        conn = psycopg2.connect(admin_url())
        try:
            with conn.cursor() as cur:
                cur.execute("show server_version")
                return cur.fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:  # a report without the version beats no report
        return f"unknown ({type(exc).__name__})"


def git_revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
