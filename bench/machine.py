"""What the benchmark ran on: CPU, cores, memory, Python, PostgreSQL, library versions."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import psutil

LIBRARIES = ("uvicorn", "starlette", "strawberry-graphql", "graphql-core", "asyncpg", "orjson")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo."""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


@dataclass(frozen=True, slots=True)
class Machine:
    """The machine and software a run measured."""

    cpu: str
    cores: int
    memory_gib: float
    python: str
    postgres: str
    libraries: dict[str, str]

    @classmethod
    def describe(cls, postgres_version: str) -> Machine:
        """This machine, with the PostgreSQL server's version string."""
        return cls(
            cpu=cpu_model(),
            cores=len(os.sched_getaffinity(0)),
            memory_gib=psutil.virtual_memory().total / 2**30,
            python=platform.python_version(),
            postgres=postgres_version,
            libraries={name: version(name) for name in LIBRARIES},
        )

    def lines(self) -> list[str]:
        """Markdown bullet lines."""
        libraries = ", ".join(f"{name} {v}" for name, v in self.libraries.items())
        return [
            f"- CPU: {self.cpu}, {self.cores} cores (shared by the server, PostgreSQL and wrk)",
            f"- RAM: {self.memory_gib:.1f} GiB; {platform.system()} {platform.release()}",
            f"- Python {self.python}; PostgreSQL {self.postgres}",
            f"- {libraries}",
        ]
