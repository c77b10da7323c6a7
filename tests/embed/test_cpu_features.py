"""Which question path ``QA_QUERY_PRECISION=auto`` takes on which CPU (model-free).

The flags are read from ``/proc/cpuinfo`` text written here, as Linux writes it on the CPUs
that matter: one with AVX-512 VNNI and BF16 (this project's machines), one with AMX, one
with AVX2 only, and an ARM one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.embed.cpu_features import (
    CpuFeatures,
    choose_query_precision,
    parse_flags,
    read_cpu_features,
)

VNNI_BF16 = ("fpu vme de pse tsc msr sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma avx512f avx512dq "
             "avx512cd avx512bw avx512vl avx512_bf16 avx512vbmi avx512_vnni avx512_bitalg")
AMX = VNNI_BF16 + " amx_bf16 amx_tile amx_int8"
AVX2 = "fpu vme de pse tsc msr sse sse2 ssse3 sse4_1 sse4_2 avx avx2 fma"


def cpuinfo(flags: str, processors: int = 2) -> str:
    block = ("processor\t: {n}\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)\n"
             "flags\t\t: {flags}\nbugs\t\t: spectre_v1\n\n")
    return "".join(block.format(n=n, flags=flags) for n in range(processors))


def features(flags: str) -> CpuFeatures:
    return CpuFeatures(parse_flags(cpuinfo(flags)))


def test_flags_are_read_from_the_flags_line_not_from_other_lines() -> None:
    flags = parse_flags(cpuinfo(VNNI_BF16))
    assert {"avx512_vnni", "avx512_bf16", "avx2"} <= flags
    assert "spectre_v1" not in flags and "GenuineIntel" not in flags
    assert parse_flags("processor : 0\nFeatures : fp asimd asimddp bf16\n") >= {"asimddp", "bf16"}
    assert parse_flags("") == frozenset()


@pytest.mark.parametrize(("flags", "int8_dot", "bf16"), [
    (VNNI_BF16, "avx512_vnni", "avx512_bf16"),
    (AMX, "avx512_vnni", "avx512_bf16"),
    (AMX.replace("avx512_vnni", "").replace("avx512_bf16", ""), "amx_int8", "amx_bf16"),
    (AVX2 + " avx_vnni", "avx_vnni", None),
    (AVX2, None, None),
])
def test_instruction_families(flags: str, int8_dot: str | None, bf16: str | None) -> None:
    f = features(flags)
    assert (f.int8_dot, f.bf16) == (int8_dot, bf16)


def test_auto_takes_the_first_adopted_path_the_cpu_supports() -> None:
    adopted = ("int8-static", "bf16")
    assert choose_query_precision("auto", features(VNNI_BF16), adopted).precision == "int8-static"
    choice = choose_query_precision("auto", features(VNNI_BF16), adopted)
    assert choice.reason == "auto: the CPU has avx512_vnni"
    # bf16 before int8 when measured faster: an int8-only CPU still gets int8.
    assert choose_query_precision("auto", features(AVX2 + " avx_vnni"), ("bf16", "int8")
                                  ).precision == "int8"


def test_auto_falls_back_to_fp32_and_says_what_was_missing() -> None:
    choice = choose_query_precision("auto", features(AVX2), ("int8-static", "bf16"))
    assert choice.precision == "fp32"
    assert "avx512_vnni" in choice.reason and "avx512_bf16" in choice.reason
    assert choose_query_precision("auto", features(VNNI_BF16), ()).precision == "fp32"


def test_an_explicit_precision_is_taken_whatever_the_cpu() -> None:
    for requested in ("fp32", "int8", "int8-static", "bf16"):
        choice = choose_query_precision(requested, features(AVX2), ("int8-static",))
        assert choice.precision == requested
        assert choice.reason == f"QA_QUERY_PRECISION={requested}"
    with pytest.raises(ValueError):
        choose_query_precision("int4", features(AVX2), ())


def test_an_unreadable_cpuinfo_means_no_flags(tmp_path: Path) -> None:
    assert read_cpu_features(tmp_path / "missing").flags == frozenset()
    written = tmp_path / "cpuinfo"
    written.write_text(cpuinfo(VNNI_BF16), encoding="utf-8")
    assert read_cpu_features(written).int8_dot == "avx512_vnni"


def test_this_machine_is_read() -> None:
    """/proc/cpuinfo exists on the Linux machines the project runs on, and lists flags."""
    if not Path("/proc/cpuinfo").is_file():
        pytest.skip("no /proc/cpuinfo here")
    assert read_cpu_features().flags
