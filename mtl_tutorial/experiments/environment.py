"""What a run was computed on: recorded beside its results, since floating-point details (the
CPU's instruction set, the number of threads, compiled or eager code) can change them."""

from __future__ import annotations

import platform
import sys
from pathlib import Path
from typing import Any

import torch


def cpu_model() -> str:
    """The CPU's model name (from ``/proc/cpuinfo`` on Linux), else what :mod:`platform` says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def run_environment(*, device: str = "cpu", compiled: bool | list[str] = False) -> dict[str, Any]:
    """The facts of this run that its numbers may depend on.

    Returns:
        ``torch`` and ``python`` versions; ``cpu`` (model name), ``cpu_capability`` (the vector
        instructions torch's CPU kernels use, e.g. ``"AVX512"``), ``threads``
        (``torch.get_num_threads()``), ``device``, ``gpu`` (its name, when ``device`` is CUDA)
        and ``compiled`` (whether, or for which methods, ``torch.compile`` was used).
    """
    capability = getattr(torch.backends.cpu, "get_cpu_capability", lambda: "unknown")()
    gpu = (
        torch.cuda.get_device_name() if str(device).startswith("cuda") and torch.cuda.is_available() else None
    )
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "cpu": cpu_model(),
        "cpu_capability": capability,
        "threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": gpu,
        "compiled": compiled,
    }
