"""The benchmark knows the CPU (bench/cpu.py): the machine's description, oneDNN's instruction
set, ``--isa`` reaching every measured child, and the reports that carry them.

Nothing here runs a course notebook. One test starts a bare kernel on a two-cell notebook of
its own, and one (marked slow) runs the real oneDNN probe, which imports TensorFlow.
"""

from __future__ import annotations

import ast
import json
import os
import sys
from argparse import Namespace
from dataclasses import asdict
from pathlib import Path

import pytest

from bench import against, cpu, report, run, runner
from classroom import bench as classroom_bench
from classroom import cli as classroom_cli
from classroom import livebench

# Two logical processors of each machine, cut down to the lines the parser reads (and a few
# it must skip). The flags are as those machines' kernels print them.
XEON_AMX = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq \
avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 avx512f avx512dq \
avx512cd avx512bw avx512vl avx512_vnni avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8
"""

EPYC_AVX2 = """\
processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model name\t: AMD EPYC 7B13
flags\t\t: fpu vme de pse tsc msr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm \
constant_tsc rep_good nopl pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes \
xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy cr8_legacy abm sse4a misalignsse \
3dnowprefetch osvw topoext fsgsbase bmi1 avx2 smep bmi2 erms invpcid rdseed adx smap \
clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 clzero xsaveerptr rdpru arat npt nrip_save \
umip vaes vpclmulqdq rdpid fsrm

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx avx2
"""

ARM = """\
processor\t: 0
BogoMIPS\t: 243.75
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid sve
CPU implementer\t: 0x41
"""

# Captured on this project's Xeon (TensorFlow 2.21, oneDNN 3.7.3), with and without
# ONEDNN_MAX_CPU_ISA=AVX2; the trailing space of the first isa line is oneDNN's own.
VERBOSE_XEON = """\
onednn_verbose,v1,info,oneDNN v3.7.3 (commit N/A)
onednn_verbose,v1,info,cpu,runtime:threadpool,nthr:2
onednn_verbose,v1,info,cpu,isa:Intel AVX-512 with float16, Intel DL Boost and bfloat16 support\x20
onednn_verbose,v1,info,gpu,runtime:none
onednn_verbose,v1,primitive,info,template:operation,engine,primitive,implementation,prop_kind,\
memory_descriptors,attributes,auxiliary,problem_desc,exec_time
onednn_verbose,v1,primitive,exec,cpu,reorder,jit:uni,undef,src:f32::blocked:cdba::f0 \
dst:f32::blocked:Acdb16a::f0,,,8x1x3x3,0.00390625
onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx512_core,forward_training,\
src:f32::blocked:acdb::f0 wei:f32:a:blocked:Acdb16a::f0 bia:undef::undef::: \
dst:f32::blocked:acdb::f0,attr-scratchpad:user,alg:convolution_direct,\
mb8_ic1oc8_ih28oh28kh3sh1dh0ph1_iw28ow28kw3sw1dw0pw1,0.0629883
onednn_verbose,v1,primitive,exec,cpu,gemm_api,,undef,src_f32::blocked:ab:f0 \
wei_f32::blocked:ab:f0 dst_f32::blocked:ab:f0,,,8x6272:6272x4,10.2441
__PROBE_DONE__ 123.0
"""
VERBOSE_AVX2 = """\
onednn_verbose,v1,info,oneDNN v3.7.3 (commit N/A)
onednn_verbose,v1,info,cpu,isa:Intel AVX2
onednn_verbose,v1,primitive,exec,cpu,convolution,brg_conv_fwd:avx2,forward_training,src:f32
"""
# The older layout (oneDNN 2.x: no "v1", no "primitive"), on a machine with AMX.
VERBOSE_OLD_AMX = """\
onednn_verbose,info,oneDNN v2.7.3 (commit 6dbeffbae1f23cbbeae17adb7b5b13f1f37c080e)
onednn_verbose,info,cpu,isa:Intel AVX-512 with float16, Intel DL Boost and bfloat16 support \
and Intel AMX with bfloat16 and 8-bit integer support
onednn_verbose,exec,cpu,convolution,jit:avx512_core_amx_bf16,forward_training,src_bf16
onednn_verbose,exec,cpu,convolution,brg:avx512_core_amx,forward_training,src_bf16
onednn_verbose,exec,cpu,convolution,jit:avx512_core_amx_bf16,forward_training,src_bf16
"""


# --- the machine's description -------------------------------------------------------------


def test_an_avx512_xeon_with_amx_is_described_from_its_flags():
    machine = cpu.describe_machine(XEON_AMX, 2, 2)
    assert machine == {
        "model": "Intel(R) Xeon(R) Platinum 8480+",
        "logical_cores": 2,
        "usable_cores": 2,
        "extensions": [
            "AVX2",
            "FMA",
            "AVX-512 F",
            "AVX-512 BW",
            "AVX-512 VNNI",
            "AVX-512 BF16",
            "AMX-TILE",
            "AMX-BF16",
            "AMX-INT8",
        ],
    }
    assert cpu.summary(machine) == (
        "Intel Xeon Platinum 8480+, 2 cores, AVX2, FMA, AVX-512 F/BW/VNNI/BF16, AMX TILE/BF16/INT8"
    )


def test_an_avx2_only_epyc_says_it_has_no_avx512():
    machine = cpu.describe_machine(EPYC_AVX2, 4, 2)
    assert machine["model"] == "AMD EPYC 7B13"
    assert machine["extensions"] == ["AVX2", "FMA"]
    assert cpu.summary(machine) == (
        "AMD EPYC 7B13, 4 cores (2 usable by the benchmark), AVX2, FMA, no AVX-512, no AMX"
    )


def test_without_proc_cpuinfo_everything_is_unknown_and_nothing_breaks(tmp_path):
    machine = cpu.describe_machine(None, 8, None)
    assert machine == {
        "model": "unknown",
        "logical_cores": 8,
        "usable_cores": None,
        "extensions": None,  # unknown, not "none of them"
    }
    assert cpu.summary(machine) == "unknown, 8 cores, vector extensions unknown"
    assert cpu.describe_machine(None, None, None, "arm")["model"] == "arm"
    assert cpu.read_cpuinfo(tmp_path / "no-such-file") is None
    mac = cpu.this_machine(tmp_path / "no-such-file")  # what macOS gets
    assert mac["extensions"] is None and mac["model"]
    assert cpu.summary({**mac, "onednn": None}).endswith("vector extensions unknown")


def test_an_arm_cpu_lists_its_own_extensions():
    machine = cpu.describe_machine(ARM, 4, 4, "aarch64")
    assert machine["model"] == "aarch64" and machine["extensions"] == ["NEON", "SVE"]
    assert cpu.summary(machine) == "aarch64, 4 cores, NEON, SVE"


def test_this_machine_reads_its_own_cpuinfo(tmp_path):
    path = tmp_path / "cpuinfo"
    path.write_text(EPYC_AVX2, encoding="utf-8")
    machine = cpu.this_machine(path)
    assert machine["model"] == "AMD EPYC 7B13" and machine["extensions"] == ["AVX2", "FMA"]
    assert machine["logical_cores"] == os.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert machine["usable_cores"] == len(os.sched_getaffinity(0))
    assert cpu.cpu_model(path) == "AMD EPYC 7B13"


# --- oneDNN's verbose output ---------------------------------------------------------------


def test_the_isa_line_captured_here_is_parsed():
    found = cpu.parse_verbose(VERBOSE_XEON)
    assert found == {
        "isa": "Intel AVX-512 with float16, Intel DL Boost and bfloat16 support",
        "isa_name": "avx512_core_fp16",
        "version": "3.7.3",
        "implementations": {
            "reorder": ["jit:uni"],
            "convolution": ["brg_conv_fwd:avx512_core"],
            "gemm_api": [],  # oneDNN names no implementation for its sgemm
        },
    }
    limited = cpu.parse_verbose(VERBOSE_AVX2)
    assert limited["isa"] == "Intel AVX2" and limited["isa_name"] == "avx2"
    assert limited["implementations"] == {"convolution": ["brg_conv_fwd:avx2"]}


def test_the_older_layout_and_amx_are_parsed_too():
    found = cpu.parse_verbose(VERBOSE_OLD_AMX)
    assert found["isa_name"] == "avx512_core_amx" and found["version"] == "2.7.3"
    assert found["implementations"] == {
        "convolution": ["jit:avx512_core_amx_bf16", "brg:avx512_core_amx"]
    }
    assert cpu.parse_verbose("no oneDNN here\n")["isa"] is None


@pytest.mark.parametrize(
    ("description", "name"),
    [
        ("Intel AVX2", "avx2"),
        ("Intel AVX", "avx"),
        ("Intel SSE4.1", "sse41"),
        ("Intel AVX2 with Intel DL Boost", "avx2_vnni"),
        ("Intel AVX-512 with AVX512BW, AVX512VL, and AVX512DQ extensions", "avx512_core"),
        ("Intel AVX-512 with Intel DL Boost", "avx512_core_vnni"),
        ("Intel AVX-512 with Intel DL Boost and bfloat16 support", "avx512_core_bf16"),
        (
            "Intel AVX-512 with float16, Intel DL Boost and bfloat16 support and Intel AMX "
            "with bfloat16, float16 and 8-bit integer support (preview support)",
            "avx512_core_amx_fp16",
        ),
        ("AArch64 SVE (256 bits)", None),
        (None, None),
    ],
)
def test_onednn_descriptions_map_to_its_short_names(description, name):
    assert cpu.isa_name(description) == name


def test_the_summary_says_what_onednn_used_and_why():
    machine = cpu.describe_machine(XEON_AMX, 2, 2)
    probe = {**cpu.parse_verbose(VERBOSE_AVX2), "max_cpu_isa": "AVX2", "onednn_opts": None}
    line = cpu.summary({**machine, "onednn": {**probe, "problem": None}})
    assert line.endswith(
        "; oneDNN ISA: avx2 (limit ONEDNN_MAX_CPU_ISA=AVX2; convolution: brg_conv_fwd:avx2)"
    )
    lifted = {**probe, "max_cpu_isa": "DEFAULT", "problem": None}
    assert "(ONEDNN_MAX_CPU_ISA=DEFAULT; " in cpu.summary({**machine, "onednn": lifted})
    off = {**cpu.parse_verbose(VERBOSE_XEON), "onednn_opts": "0", "problem": None}
    off["implementations"] = {"gemm_api": []}  # convolutions are TensorFlow's own then
    assert "(TF_ENABLE_ONEDNN_OPTS=0; convolution: not oneDNN's)" in cpu.summary(
        {**machine, "onednn": off}
    )
    failed = {"isa": None, "problem": "oneDNN printed nothing: TensorFlow did not use it here"}
    assert "oneDNN ISA: unknown (oneDNN printed nothing" in cpu.summary(
        {**machine, "onednn": failed}
    )


def test_a_failed_probe_is_recorded_not_raised(monkeypatch):
    monkeypatch.setattr(cpu, "_PROBE", "raise SystemExit('no TensorFlow here')")
    found = cpu.probe_onednn({"PATH": os.environ.get("PATH", ""), "ONEDNN_MAX_CPU_ISA": "AVX2"})
    assert found["isa"] is None and found["max_cpu_isa"] == "AVX2"
    assert found["problem"] == "the probe failed (exit 1): no TensorFlow here"


@pytest.mark.slow  # imports TensorFlow in a fresh Python: about 5-10 s
def test_the_real_probe_finds_an_instruction_set_and_obeys_the_limit():
    from bench.common import kernel_env

    found = cpu.probe_onednn(kernel_env(ONEDNN_MAX_CPU_ISA="AVX2"))
    assert found["max_cpu_isa"] == "AVX2"
    assert found["isa"] or found["problem"]  # something sane either way
    flags = cpu.this_machine()["extensions"] or []
    if "AVX2" in flags:  # an x86 machine that has AVX2: the limit holds exactly
        assert found["problem"] is None and found["isa_name"] == "avx2", found
        assert found["version"]
        conv = found["implementations"].get("convolution", [])
        assert all("avx512" not in name for name in conv)


# --- --isa ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "value"),
    [("avx2", "AVX2"), ("AVX2", "AVX2"), ("avx512", "AVX512_CORE"), ("default", "DEFAULT")],
)
def test_friendly_isa_names_become_onednns_values(given, value):
    assert cpu.isa_value(given) == value
    assert cpu.isa_value("AVX512_core_bf16") == "AVX512_CORE_BF16"


def test_an_unknown_isa_is_a_usage_error(capsys):
    with pytest.raises(ValueError, match="avx2, avx2_vnni"):
        cpu.isa_value("avx3")
    with pytest.raises(SystemExit) as exit_:
        run.main(["--isa", "avx3", "--only", "01"])
    assert exit_.value.code == 2 and "unknown instruction set 'avx3'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        classroom_cli.parser().parse_args(["bench", "--isa", "avx3"])


def _fake_machine(env: dict[str, str] | None = None) -> dict:
    onednn = {"isa": "Intel AVX2", "isa_name": "avx2", "problem": None}
    onednn["implementations"] = {"convolution": ["brg_conv_fwd:avx2"]}
    onednn["max_cpu_isa"] = (env or {}).get("ONEDNN_MAX_CPU_ISA")
    processor = {**cpu.describe_machine(XEON_AMX, 2, 2), "onednn": onednn}
    return {
        "cpu": "Intel Xeon",
        "cores": 2,
        "memory_gb": 8.0,
        "gpus": 0,
        "python": "3.11",
        "versions": {"tensorflow": "2.21.0", "keras": "3.12"},
        "processor": processor,
    }


def test_isa_avx2_reaches_every_notebook_recipe_and_probe(monkeypatch, tmp_path, capsys):
    seen: dict[str, dict[str, str]] = {}

    def fake_chapters(paths, env, baselines=True):
        seen["children"] = env
        return [], []

    def fake_machine(env=None):
        seen["probe"] = env
        return _fake_machine(env)

    monkeypatch.setattr(runner, "run_chapters", fake_chapters)
    monkeypatch.setattr(runner, "machine_info", fake_machine)
    monkeypatch.setattr(report, "write_results", lambda *args: "table")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    assert run.main(["--isa", "avx2", "--only", "01"]) == 0
    assert seen["children"]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    assert seen["probe"] is seen["children"]  # the probe sees what the notebooks see
    assert seen["children"]["PYTHONHASHSEED"] == "0"  # still the course's kernel settings
    assert "limit ONEDNN_MAX_CPU_ISA=AVX2" in capsys.readouterr().out  # printed first
    assert run.main(["--only", "01"]) == 0
    assert "ONEDNN_MAX_CPU_ISA" not in seen["children"]
    passed = {}
    monkeypatch.setattr(against, "against_main", lambda *a, **kw: passed.update(kw) or 0)
    assert run.main(["--isa", "avx512", "--against", "HEAD", "--only", "01"]) == 0
    assert passed["env"]["ONEDNN_MAX_CPU_ISA"] == "AVX512_CORE"


def test_the_environment_reaches_a_real_kernel_and_a_recipe(tmp_path, monkeypatch):
    """run_notebook's kernel and run_baseline's process both see ONEDNN_MAX_CPU_ISA."""
    import nbformat

    env = run.children_env("AVX2")
    record = (
        "import json, os\n"
        "with open(os.environ['COURSE_METRICS_FILE'], 'a') as f:\n"
        "    f.write(json.dumps({'name': 'isa', 'value': os.environ.get("
        "'ONEDNN_MAX_CPU_ISA')}) + '\\n')\n"
    )
    notebook = tmp_path / "isa.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(record)]), notebook)
    result = runner.run_notebook(notebook, env, timeout=120)
    assert result["error"] is None and result["metrics"] == {"isa": "AVX2"}
    recipe = tmp_path / "echo_isa.py"
    recipe.write_text(
        "import json, os\n"
        "print(json.dumps({'peak_mb': 1.0, 'isa': os.environ.get('ONEDNN_MAX_CPU_ISA')}))\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(runner, "BASELINES", tmp_path)
    assert runner.run_baseline("echo_isa", env)["metrics"] == {"isa": "AVX2"}


def test_the_classroom_sets_the_isa_inside_each_students_kernel(monkeypatch):
    assert classroom_bench.isa_cell(None) is None
    cell = classroom_bench.isa_cell("AVX2")
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)  # put back as it was afterwards
    namespace: dict = {}
    exec(cell, namespace)  # what the kernel runs first
    assert os.environ["ONEDNN_MAX_CPU_ISA"] == "AVX2" and "_os" not in namespace
    # The probe sees what a student's kernel sees: the hub's own settings do not reach it.
    outside = {"ONEDNN_MAX_CPU_ISA": "SSE41", "TF_ENABLE_ONEDNN_OPTS": "0", "PATH": "/bin"}
    assert classroom_bench.students_env(None, outside) == {"PATH": "/bin"}
    assert classroom_bench.students_env("AVX2", outside)["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    args = classroom_cli.parser().parse_args(["bench", "--isa", "avx2"])
    assert args.isa == "AVX2"
    assert classroom_cli.parser().parse_args(["bench"]).isa is None


def test_the_live_page_bench_refuses_isa(capsys):
    assert livebench.main(Namespace(isa="AVX2", live=5)) == 2
    assert "--isa has no effect with --live" in capsys.readouterr().err


# --- the reports ---------------------------------------------------------------------------


def _row() -> dict:
    return {
        "name": "06_cnn",
        "kind": "notebook",
        "seconds": 70.0,
        "cpu_seconds": 90.0,
        "peak_mb": 1000.0,
        "budget": (180, 1200),
        "metrics": {},
        "status": "ok",
    }


def test_the_report_and_its_json_carry_the_extensions_and_the_isa(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "plot", lambda rows, path: None)  # no matplotlib needed
    machine = _fake_machine({"ONEDNN_MAX_CPU_ISA": "AVX2"})
    table = report.write_results([_row()], [], machine, "2026-12-08T00-00-00Z", tmp_path)
    lines = table.splitlines()
    assert lines[0].startswith("Machine: 2 cores")
    assert lines[2] == (
        "Processor: Intel Xeon Platinum 8480+, 2 cores, AVX2, FMA, AVX-512 F/BW/VNNI/BF16, "
        "AMX TILE/BF16/INT8; oneDNN ISA: avx2 (limit ONEDNN_MAX_CPU_ISA=AVX2; "
        "convolution: brg_conv_fwd:avx2)."
    )
    saved = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    processor = saved["machine"]["processor"]
    assert "AVX-512 F" in processor["extensions"] and processor["usable_cores"] == 2
    assert processor["onednn"]["isa_name"] == "avx2"
    assert processor["onednn"]["max_cpu_isa"] == "AVX2"


def test_the_published_table_says_which_cpu_it_is_for(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text(
        "<!-- timings:start -->\nold\n<!-- timings:end -->\n", encoding="utf-8"
    )
    monkeypatch.setattr(report, "README", tmp_path / "README.md")
    monkeypatch.setattr(report, "PUBLISHED", tmp_path / "published.json")
    report.publish([_row()], _fake_machine(), "2026-12-08T00-00-00Z")
    block = (tmp_path / "README.md").read_text(encoding="utf-8")
    processor = block.index("Processor: Intel Xeon Platinum 8480+, 2 cores, AVX2")
    assert processor < block.index("| notebook | time |")  # the line above the table
    published = json.loads((tmp_path / "published.json").read_text(encoding="utf-8"))
    assert published["machine"]["processor"]["onednn"]["isa_name"] == "avx2"
    # A run saved before the processor was recorded still publishes, and says so.
    older = {k: v for k, v in _fake_machine().items() if k != "processor"}
    text = report.timings_markdown({}, {}, older, "2026-12-01T00-00-00Z", "`bench`")
    assert "Processor: vector extensions and oneDNN instruction set not recorded" in text


def test_the_against_report_names_the_processor():
    processor = _fake_machine({"ONEDNN_MAX_CPU_ISA": "AVX2"})["processor"]
    text = against.against_markdown([], "main", "abc1234", "Intel Xeon", processor)
    assert "Processor: Intel Xeon Platinum 8480+" in text and "avx2" in text
    assert "Processor:" not in against.against_markdown([], "main", "abc1234", "Intel Xeon")


def test_the_classroom_report_and_saved_results_carry_the_processor(tmp_path):
    processor = _fake_machine({"ONEDNN_MAX_CPU_ISA": "AVX2"})["processor"]
    run_ = classroom_bench.StudentRun("student01", 60.0, 50.0, 900.0, 200.0)
    round_ = classroom_bench.Round("05", 1, [run_], 100.0, 50.0, 61.0)
    sized = classroom_bench.sizing([round_])
    text = classroom_bench.markdown([round_], sized, "2026-12-08", "2 CPU cores", processor)
    assert text.splitlines()[2].startswith("Processor: Intel Xeon Platinum 8480+, 2 cores")
    assert "oneDNN ISA: avx2" in text.splitlines()[2]
    saved = tmp_path / "classroom.json"
    saved.write_text(
        json.dumps(
            {
                "machine": "2 CPU cores",
                "processor": processor,
                "rounds": [asdict(round_)],
            }
        ),
        encoding="utf-8",
    )
    rounds, where, loaded = classroom_bench.load_rounds([saved])
    assert where == "2 CPU cores" and loaded == processor and rounds[0].chapter == "05"
    assert "not recorded" in classroom_bench.markdown(rounds, sized, "2026-12-08", where)


def test_the_module_needs_only_the_standard_library():
    """bench.cpu is imported by the classroom too: nothing of the project, nothing installed
    (TensorFlow only inside the probe's own Python, as a string)."""
    tree = ast.parse(Path(cpu.__file__).read_text(encoding="utf-8"))
    imports = {
        (alias.name if isinstance(node, ast.Import) else node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imports <= set(sys.stdlib_module_names) | {"__future__"}, imports
