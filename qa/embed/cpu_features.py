"""What the CPU computes natively, read once when a question path is chosen.

The question path's default (``QA_QUERY_PRECISION=auto``) depends on it: an int8 path
only pays where the CPU has 8-bit dot-product instructions (AVX-512 VNNI, AVX-VNNI or
AMX-INT8; without them ONNX Runtime's int8 kernels can saturate and gain little), and a
bf16 path only where it computes bfloat16 natively (AVX-512 BF16 or AMX-BF16). The flags
come from ``/proc/cpuinfo`` (Linux); where that file is missing or unreadable, no flag
is assumed, so the choice falls back to fp32, the reference.

Reading one line of ``/proc/cpuinfo`` needs no library: py-cpuinfo would answer the same
question through a subprocess or its own CPUID code, at a cost at every start.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)

CPUINFO = Path("/proc/cpuinfo")
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")

QueryPrecision = Literal["fp32", "int8", "int8-static", "bf16"]


@dataclass(frozen=True)
class CpuFeatures:
    """The instruction-set flags that decide which question paths pay on this CPU."""

    flags: frozenset[str]

    @property
    def int8_dot(self) -> str | None:
        """The first 8-bit dot-product flag the CPU has (what int8 paths need), or None."""
        return next((f for f in INT8_DOT_FLAGS if f in self.flags), None)

    @property
    def bf16(self) -> str | None:
        """The first native-bfloat16 flag the CPU has (what bf16 paths need), or None."""
        return next((f for f in BF16_FLAGS if f in self.flags), None)

    def supports(self, precision: QueryPrecision) -> str | None:
        """The flag that makes ``precision`` worth running here ('' for fp32, which runs
        everywhere), or None when the CPU lacks it."""
        if precision == "fp32":
            return ""
        return self.bf16 if precision == "bf16" else self.int8_dot


def parse_flags(cpuinfo: str) -> frozenset[str]:
    """The flags of the first processor listed in ``/proc/cpuinfo`` text (x86 ``flags``, or
    ARM's ``Features``); empty when there is none."""
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def read_cpu_features(path: Path = CPUINFO) -> CpuFeatures:
    """This machine's flags; none when ``path`` cannot be read (not Linux, a sandbox)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        log.info("cannot read %s (%s): assuming no int8 or bf16 instructions", path, exc)
        return CpuFeatures(frozenset())
    return CpuFeatures(parse_flags(text))


@dataclass(frozen=True)
class QueryPathChoice:
    """The question precision to run, and why: named in ``/health`` and evaluation reports."""

    precision: QueryPrecision
    reason: str


def choose_query_precision(requested: str, features: CpuFeatures,
                           adopted: Sequence[QueryPrecision]) -> QueryPathChoice:
    """Resolve ``QA_QUERY_PRECISION``: an explicit precision is taken as asked; ``auto`` takes
    the first of ``adopted`` (the faster paths that kept the evaluation rule, fastest first)
    that the CPU supports, else fp32, the reference."""
    if requested != "auto":
        return QueryPathChoice(_checked(requested), f"QA_QUERY_PRECISION={requested}")
    for precision in adopted:
        flag = features.supports(precision)
        if flag:
            return QueryPathChoice(precision, f"auto: the CPU has {flag}")
    wanted = sorted({f for p in adopted if p != "fp32"
                     for f in (BF16_FLAGS if p == "bf16" else INT8_DOT_FLAGS)})
    return QueryPathChoice("fp32", "auto: fp32, the CPU has none of " + ", ".join(wanted)
                           if wanted else "auto: fp32")


def _checked(precision: str) -> QueryPrecision:
    known: Iterable[QueryPrecision] = ("fp32", "int8", "int8-static", "bf16")
    for p in known:
        if p == precision:
            return p
    raise ValueError(f"unknown question precision {precision!r}")
