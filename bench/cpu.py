"""Which CPU a benchmark ran on, and which of its instructions TensorFlow's kernels used.

A chapter's time depends on more than a core count: on the 2-core AMD EPYC with AVX2 and no
AVX-512, chapter 06 ran 4.8 times slower than on a 2-core Intel Xeon with AVX-512 (issue "Fast
on the CPUs learners and schools have"). So every run records:

- the processor's model name, its logical cores and the cores this process may use
  (``os.sched_getaffinity``: a container or ``taskset`` may allow fewer);
- the vector extensions present, from the ``flags`` line of ``/proc/cpuinfo``
  (:data:`EXTENSIONS`); where there is no ``/proc/cpuinfo`` (macOS, Windows) they are
  recorded as unknown (``None``), never guessed;
- what oneDNN, the library behind TensorFlow's CPU convolutions and matrix products,
  actually dispatches to (:func:`probe_onednn`): a tiny convolution and matrix product run
  in a fresh Python with ``ONEDNN_VERBOSE=1`` and the benchmark's own environment (so its
  ``ONEDNN_MAX_CPU_ISA`` and ``TF_ENABLE_ONEDNN_OPTS``); oneDNN then prints the instruction
  set it chose (``isa:`` line) and each primitive's implementation (e.g.
  ``brg_conv_fwd:avx512_core``).

``ONEDNN_MAX_CPU_ISA`` caps what oneDNN uses: ``--isa avx2`` (:func:`isa_value`) makes an
AVX-512 machine run the kernels an AVX2-only CPU runs. Standard library only, so the
classroom benchmark imports it as well.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
MAX_ISA_VAR = "ONEDNN_MAX_CPU_ISA"
ONEDNN_OPTS_VAR = "TF_ENABLE_ONEDNN_OPTS"

# (flag in /proc/cpuinfo, the name a report shows), in the order a report lists them.
EXTENSIONS: tuple[tuple[str, str], ...] = (
    ("avx2", "AVX2"),
    ("fma", "FMA"),
    ("avx512f", "AVX-512 F"),
    ("avx512bw", "AVX-512 BW"),
    ("avx512_vnni", "AVX-512 VNNI"),
    ("avx512_bf16", "AVX-512 BF16"),
    ("amx_tile", "AMX-TILE"),
    ("amx_bf16", "AMX-BF16"),
    ("amx_int8", "AMX-INT8"),
    ("asimd", "NEON"),  # ARM: the "Features" line
    ("sve", "SVE"),
)

# --isa: a friendly name -> the value oneDNN reads from ONEDNN_MAX_CPU_ISA (its "CPU
# Dispatcher Control" guide). oneDNN ignores a value it does not know, silently, so only
# these are accepted. "default" lifts any limit the caller's environment set.
ISA_VALUES: dict[str, str] = {
    "default": "DEFAULT",
    "sse41": "SSE41",
    "avx": "AVX",
    "avx2": "AVX2",
    "avx2_vnni": "AVX2_VNNI",
    "avx512": "AVX512_CORE",
    "avx512_vnni": "AVX512_CORE_VNNI",
    "avx512_bf16": "AVX512_CORE_BF16",
    "avx512_fp16": "AVX512_CORE_FP16",
    "amx": "AVX512_CORE_AMX",
}

# oneDNN's description of an instruction set (its verbose "isa:" line, as its
# src/cpu/x64/cpu_isa_traits.cpp words it) -> its own short name. Whole descriptions first;
# then descriptions containing all the words given, the first match winning (each more
# specific than those after it).
_ISA_EXACT: dict[str, str] = {
    "Intel AVX2": "avx2",
    "Intel AVX": "avx",
    "Intel SSE4.1": "sse41",
}
_ISA_CONTAINS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("AMX with bfloat16, float16",), "avx512_core_amx_fp16"),
    (("AMX",), "avx512_core_amx"),
    (("AVX-512 with float16",), "avx512_core_fp16"),
    (("AVX-512", "bfloat16"), "avx512_core_bf16"),
    (("AVX-512 with Intel DL Boost",), "avx512_core_vnni"),
    (("AVX-512 with AVX512BW",), "avx512_core"),
    (("AVX2 with Intel DL Boost, float16",), "avx2_vnni_2"),
    (("AVX2 with Intel DL Boost",), "avx2_vnni"),
)

# Run in a fresh Python by probe_onednn: a convolution and a matrix product small enough to
# take milliseconds, wide enough (8 output channels) that oneDNN picks its usual kernels.
_PROBE = """
import tensorflow as tf
x = tf.random.stateless_normal((8, 28, 28, 1), seed=(1, 2))
k = tf.random.stateless_normal((3, 3, 1, 8), seed=(3, 4))
y = tf.nn.conv2d(x, k, strides=1, padding="SAME")
m = tf.matmul(tf.reshape(y, (8, -1)), tf.ones((28 * 28 * 8, 4)))
print("__PROBE_DONE__", float(tf.reduce_sum(m)))
"""

_VERBOSE = r"^(?:onednn|dnnl)_verbose,(?:v\d+,)?"
_ISA_LINE = re.compile(_VERBOSE + r"info,cpu,isa:(.*)$")
_VERSION_LINE = re.compile(_VERBOSE + r"info,oneDNN v(\S+)")
_EXEC_LINE = re.compile(_VERBOSE + r"(?:primitive,)?exec,cpu,([^,]+),([^,]*),")


def isa_value(name: str) -> str:
    """The ``ONEDNN_MAX_CPU_ISA`` value for ``--isa NAME``: a key of :data:`ISA_VALUES`
    ("avx2") or one of its values in any case ("AVX512_CORE"). ValueError for others."""
    wanted = name.strip().lower()
    if wanted in ISA_VALUES:
        return ISA_VALUES[wanted]
    for value in ISA_VALUES.values():
        if value.lower() == wanted:
            return value
    known = ", ".join(ISA_VALUES)
    raise ValueError(f"unknown instruction set {name!r}; choose one of {known}")


def read_cpuinfo(path: Path = CPUINFO) -> str | None:
    """The text of ``/proc/cpuinfo``, or None where there is none (macOS, Windows)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def parse_cpuinfo(text: str | None) -> dict:
    """The first processor's model name and vector extensions from ``/proc/cpuinfo`` text.

    ``{"model": str | None, "extensions": [names] | None}``: the names are
    :data:`EXTENSIONS`' report names, in that order; None where the text (or its flags
    line) is missing, so an unknown is never read as "absent".
    """
    model: str | None = None
    flags: set[str] | None = None
    for line in (text or "").splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key == "model name" and model is None:
            model = value.strip() or None
        elif key in ("flags", "features") and flags is None:
            flags = set(value.split())
    extensions = None if flags is None else [name for flag, name in EXTENSIONS if flag in flags]
    return {"model": model, "extensions": extensions}


def usable_cores() -> int | None:
    """How many cores this process may run on (its affinity mask), where the system says."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def describe_machine(
    cpuinfo: str | None,
    logical_cores: int | None,
    usable: int | None,
    fallback_model: str = "",
) -> dict:
    """The machine's description as the results record it (without the oneDNN probe).

    ``fallback_model`` names the processor where ``cpuinfo`` does not (``platform``'s
    answer); "unknown" when neither does.
    """
    parsed = parse_cpuinfo(cpuinfo)
    return {
        "model": parsed["model"] or fallback_model or "unknown",
        "logical_cores": logical_cores,
        "usable_cores": usable,
        "extensions": parsed["extensions"],
    }


def this_machine(path: Path = CPUINFO) -> dict:
    """:func:`describe_machine` for the machine this runs on."""
    fallback = platform.processor() or platform.machine()
    return describe_machine(read_cpuinfo(path), os.cpu_count(), usable_cores(), fallback)


def cpu_model(path: Path = CPUINFO) -> str:
    """The processor's name (e.g. "AMD EPYC 7B13"); the platform's answer without cpuinfo."""
    return this_machine(path)["model"]


def isa_name(description: str | None) -> str | None:
    """oneDNN's short name ("avx512_core") for its verbose description of an instruction set
    ("Intel AVX-512 with AVX512BW, AVX512VL, and AVX512DQ extensions"); None if unknown."""
    if not description:
        return None
    description = description.strip()
    if description in _ISA_EXACT:
        return _ISA_EXACT[description]
    for needles, name in _ISA_CONTAINS:
        if all(needle in description for needle in needles):
            return name
    return None


def parse_verbose(text: str) -> dict:
    """What oneDNN's verbose output (``ONEDNN_VERBOSE=1``) says about the instruction set.

    ``isa``: the description on its ``info,cpu,isa:`` line (None if none was printed);
    ``isa_name``: :func:`isa_name` of it; ``version``: oneDNN's; ``implementations``: each
    kind of primitive run -> the implementations oneDNN chose for it, in order of first use
    (e.g. ``{"convolution": ["brg_conv_fwd:avx2"]}``).
    """
    found: dict = {"isa": None, "isa_name": None, "version": None, "implementations": {}}
    for line in text.splitlines():
        line = line.strip()
        if match := _ISA_LINE.match(line):
            found["isa"] = found["isa"] or match.group(1).strip()
        elif match := _VERSION_LINE.match(line):
            found["version"] = found["version"] or match.group(1)
        elif match := _EXEC_LINE.match(line):
            kind, implementation = match.groups()
            seen = found["implementations"].setdefault(kind, [])
            if implementation and implementation not in seen:
                seen.append(implementation)
    found["isa_name"] = isa_name(found["isa"])
    return found


def probe_onednn(env: dict[str, str] | None = None, timeout: float = 120) -> dict:
    """Run :data:`_PROBE` in a fresh Python with ``env`` and ``ONEDNN_VERBOSE=1``.

    Returns :func:`parse_verbose`'s fields, plus ``max_cpu_isa`` and ``onednn_opts`` (the
    ``ONEDNN_MAX_CPU_ISA`` and ``TF_ENABLE_ONEDNN_OPTS`` of ``env``, None when unset) and
    ``problem``: None, or why no instruction set was found (TensorFlow failed, or oneDNN
    printed nothing). Takes a few seconds: most of it TensorFlow's import.
    """
    env = dict(os.environ if env is None else env)
    result = {
        "isa": None,
        "isa_name": None,
        "version": None,
        "implementations": {},
        "max_cpu_isa": env.get(MAX_ISA_VAR),
        "onednn_opts": env.get(ONEDNN_OPTS_VAR),
        "problem": None,
    }
    env["ONEDNN_VERBOSE"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        result["problem"] = f"the probe did not run: {type(err).__name__}: {err}"[:300]
        return result
    result.update(parse_verbose(proc.stdout))
    if proc.returncode != 0 or "__PROBE_DONE__" not in proc.stdout:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        result["problem"] = f"the probe failed (exit {proc.returncode}): {tail[0][:240]}"
    elif result["isa"] is None:
        result["problem"] = (
            "oneDNN printed nothing: TensorFlow did not use it here "
            f"({ONEDNN_OPTS_VAR}={result['onednn_opts'] or 'unset'}, {platform.machine()})"
        )
    return result


def describe(env: dict[str, str] | None = None, probe: bool = True) -> dict:
    """:func:`this_machine`, with ``onednn``: :func:`probe_onednn` run with ``env`` (the
    environment the measured children get), or None when ``probe`` is false."""
    machine = this_machine()
    machine["onednn"] = probe_onednn(env) if probe else None
    return machine


def _extension_words(extensions: list[str] | None) -> str:
    """The extensions in words: "AVX2, FMA, AVX-512 F/BW/VNNI/BF16, no AMX" on this Xeon,
    "AVX2, FMA, no AVX-512, no AMX" on an AVX2-only CPU."""
    if extensions is None:
        return "vector extensions unknown"
    present = set(extensions)
    words = [name for name in ("AVX2", "FMA", "NEON", "SVE") if name in present]
    groups = (("AVX-512", "AVX-512 "), ("AMX", "AMX-"))
    for label, prefix in groups:
        parts = [name[len(prefix) :] for name in extensions if name.startswith(prefix)]
        if parts:
            words.append(f"{label} {'/'.join(parts)}")
        elif "AVX2" in present:  # an x86 CPU: its missing extensions matter
            words.append(f"no {label}")
    return ", ".join(words) or "none of AVX2, AVX-512, AMX"


def _onednn_words(onednn: dict) -> str:
    """What the probe found, in words, e.g. "oneDNN ISA: avx2 (limit ONEDNN_MAX_CPU_ISA=AVX2;
    convolution: brg_conv_fwd:avx2)"."""
    isa = onednn.get("isa_name") or onednn.get("isa")
    notes = []
    if limit := onednn.get("max_cpu_isa"):
        notes.append(("" if limit.upper() == "DEFAULT" else "limit ") + f"{MAX_ISA_VAR}={limit}")
    if onednn.get("onednn_opts") is not None:
        notes.append(f"{ONEDNN_OPTS_VAR}={onednn['onednn_opts']}")
    convolutions = onednn.get("implementations", {}).get("convolution")
    if convolutions:
        notes.append(f"convolution: {', '.join(convolutions)}")
    elif onednn.get("isa") and not onednn.get("problem"):
        notes.append("convolution: not oneDNN's")
    if not isa:
        notes.insert(0, onednn.get("problem") or "not found")
        isa = "unknown"
    return f"oneDNN ISA: {isa}" + (f" ({'; '.join(notes)})" if notes else "")


def summary(machine: dict | None) -> str:
    """One line for a report: "Intel Xeon Processor, 2 cores, AVX2, FMA, AVX-512
    F/BW/VNNI/BF16, no AMX; oneDNN ISA: avx512_core_fp16 (convolution: ...)"."""
    if not machine:
        return "not recorded"
    model = re.sub(r"\((?:R|TM|tm)\)", "", machine.get("model") or "unknown")
    model = " ".join(model.split())
    cores, usable = machine.get("logical_cores"), machine.get("usable_cores")
    if cores is None:
        core_words = "cores unknown"
    elif usable is not None and usable < cores:
        core_words = f"{cores} cores ({usable} usable by the benchmark)"
    else:
        core_words = f"{cores} cores"
    line = f"{model}, {core_words}, {_extension_words(machine.get('extensions'))}"
    if machine.get("onednn") is not None:
        line += "; " + _onednn_words(machine["onednn"])
    return line
