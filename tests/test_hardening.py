"""Hostile or broken input, signals, output files and git: exact exits and messages, nothing left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, run_cli

sys.path.insert(0, str(ROOT / "bench"))

from synthetic import synthetic

DEFAULT = ROOT / "options" / "kazakhstan.yaml"


def _write_synthetic(path: Path, niches: int, worlds: int = 5, **rules: object) -> Path:
    data = synthetic(niches, 3, worlds, 5, seed=1)
    data["rules"] = {**data.get("rules", {}), **rules}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "niches", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _processes_mentioning(text: str) -> list[int]:
    """Return the ids of live processes whose command line mentions `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(int(entry.name))
    return found


# --------------------------------------------------------------------------- git


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["diff", "--rev=--output=OUT", "options/kazakhstan.yaml"],
            "niches: error: --output=OUT:options/kazakhstan.yaml: '--output=OUT' is not a revision; "
            "a revision cannot be empty or begin with '-'\n",
        ),
        (
            ["diff", "--", "--output=OUT:foo.yaml", "options/kazakhstan.yaml"],
            "niches: error: --output=OUT:foo.yaml: '--output=OUT' is not a revision; "
            "a revision cannot be empty or begin with '-'\n",
        ),
    ],
)
def test_a_revision_is_never_read_as_a_git_option(tmp_path: Path, args: list[str], message: str) -> None:
    target = tmp_path / "written-by-git"
    result = run_cli(*[a.replace("OUT", str(target)) for a in args])
    assert result.returncode == 2
    assert result.stderr == message.replace("OUT", str(target))
    assert not target.exists()


def test_git_paths_stay_inside_the_repository() -> None:
    result = run_cli("diff", "HEAD:../../etc/passwd", "options/kazakhstan.yaml")
    assert result.returncode == 2
    assert (
        result.stderr
        == "niches: error: HEAD:../../etc/passwd: '../../etc/passwd' is outside the repository\n"
    )


def test_diff_refuses_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(DEFAULT.read_bytes().replace(b"Kazakhstan", b"Kazakhst\xe4n", 1))
    result = run_cli("diff", str(bad), "options/kazakhstan.yaml")
    assert result.returncode == 2
    assert result.stderr.startswith(f"niches: error: {bad}: is not UTF-8 text (byte ")
    assert result.stderr.endswith("); save it as UTF-8\n")


# --------------------------------------------------------------------------- size


def test_too_many_niches_are_refused_up_front(tmp_path: Path) -> None:
    path = _write_synthetic(tmp_path / "huge.yaml", 5000)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    line = result.stderr.splitlines()[0]
    assert line.endswith(": 5,000 niches; a scenario may declare at most 500 (see Limits in the README)")
    assert line.startswith(f"{path}:")


def test_files_over_the_size_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("name: big\nitems:\n" + "  - x\n" * 2_000_000)
    result = run_cli("validate", str(path))
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == f"{path}:1:1: the file is 12.0 MB; scenarios are limited to 10 MB"


# --------------------------------------------------------------------------- output files


def test_report_to_a_directory_exits_2_before_any_work(tmp_path: Path) -> None:
    result = run_cli("report", "-o", f"{tmp_path}/")
    assert result.returncode == 2
    assert result.stderr == f"niches: error: {tmp_path}: is a directory; give a file name\n"


def test_output_under_a_file_exits_2_with_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "plain-file"
    blocker.write_text("x")
    for args in (["report", "-o", f"{blocker}/r.md"], ["solve", "--lp", f"{blocker}/m.lp"]):
        result = run_cli(*args)
        assert result.returncode == 2, args
        assert (
            result.stderr.splitlines()[-1]
            == f"niches: error: {blocker}/{args[-1].rsplit('/', 1)[-1]}: {blocker} is not a folder"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain-file"]


def test_an_output_into_a_missing_folder_is_refused_unless_mkdir(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "dir" / "m.lp"
    result = run_cli("solve", "--lp", str(target), "-f", "json")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == (
        f"niches: error: {target}: the folder {target.parent} does not exist; create it, or pass --mkdir"
    )
    assert not (tmp_path / "missing").exists()
    result = run_cli("report", "-o", str(tmp_path / "none" / "r.md"))
    assert result.returncode == 2 and "pass --mkdir" in result.stderr
    result = run_cli("solve", "--lp", str(target), "-f", "json", "--mkdir")
    assert result.returncode == 0, result.stderr
    assert "budget_2027_" in target.read_text()


@pytest.mark.parametrize("command", ["init", "report"])
def test_written_files_follow_the_umask(tmp_path: Path, command: str) -> None:
    target = tmp_path / "out.txt"
    args = [command, str(target)] if command == "init" else [command, "--samples", "5", "-o", str(target)]
    done = subprocess.run(
        [sys.executable, "-m", "niches", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0o027),  # the umask of the test's child only
    )
    assert done.returncode == 0, done.stderr
    written = ["niches.schema.json", "out.txt"] if command == "init" else ["out.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == written
    assert all((tmp_path / name).stat().st_mode & 0o777 == 0o640 for name in written)


def test_report_on_an_infeasible_scenario_writes_it_and_exits_1(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    result = run_cli("report", "tests/data/valid/infeasible.yaml", "-o", str(target))
    assert result.returncode == 1
    assert "**Infeasible:** no portfolio keeps every rule." in target.read_text()


# --------------------------------------------------------------------------- the default scenario


def test_without_a_scenario_the_edited_checkout_copy_is_read_and_named(tmp_path: Path) -> None:
    (tmp_path / "options").mkdir()
    edited = DEFAULT.read_text().replace("name: Kazakhstan 2026-2030", "name: Kazakhstan edited", 1)
    (tmp_path / "options" / "kazakhstan.yaml").write_text(edited)
    shutil.copytree(DEFAULT.parent / "kazakhstan", tmp_path / "options" / "kazakhstan")  # its judges
    result = run_cli("solve", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scenario"] == "Kazakhstan edited"
    assert result.stderr == "niches: no scenario given; reading options/kazakhstan.yaml\n"


def test_without_a_scenario_elsewhere_the_installed_copy_is_named(tmp_path: Path) -> None:
    result = run_cli("solve", "-f", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("niches: no scenario given; reading /") and line.endswith("kazakhstan.yaml")
    assert json.loads(result.stdout)["binding"][0]["location"].startswith(line.rsplit(" ", 1)[-1])


# --------------------------------------------------------------------------- solvers and time


def test_a_time_limit_too_short_for_any_portfolio_exits_3() -> None:
    result = run_cli("solve", "--time-limit", "0.001")
    assert result.returncode == 3
    assert result.stderr.splitlines()[-1] == (
        "niches: error: the time limit (0.001 s) ran out; raise --time-limit"
    )


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_a_stopped_solve_is_feasible_with_a_true_gap(solver: str) -> None:
    from niches.optimize.model import Deadline, PortfolioModel, solve
    from tests.orlib import knapsack_scenario, read_mknap

    problem = read_mknap(ROOT / "tests/data/published/mknapcb1.txt")[3]
    scenario = knapsack_scenario(problem)
    model = PortfolioModel(scenario, solver)
    model.backend.solution_limit = 1  # a deterministic stop: a time limit would depend on the machine
    result = solve(scenario, solver=solver, model=model, deadline=Deadline(600))
    assert result.status == "feasible"
    assert result.gap is not None and result.gap > 0  # from bound and incumbent, never CBC's rounded 0.00
    assert result.objective is not None and result.objective < problem.optimum * (1 + 1e-9)


def test_an_unreachable_dask_scheduler_is_one_line() -> None:
    pytest.importorskip("distributed", reason="the dask extra is part of the test extras")
    result = run_cli("robust", "--samples", "5", "--scheduler", "tcp://127.0.0.1:1")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "niches: no scenario given; reading options/kazakhstan.yaml",
        "niches: error: cannot reach the Dask scheduler at tcp://127.0.0.1:1 (OSError); "
        "check the address and that the scheduler runs",
    ]


# --------------------------------------------------------------------------- signals


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_a_signal_ends_the_cbc_child_and_removes_its_files(
    tmp_path: Path, sig: int, code: int, word: str
) -> None:
    scenario = _write_synthetic(tmp_path / "big.yaml", 200, worlds=20)
    private = tmp_path / "tmp"
    private.mkdir()
    process = _start(
        ["solve", str(scenario), "--solver", "cbc", "--objective", "cvar"], ROOT, {"TMPDIR": str(private)}
    )
    deadline = time.monotonic() + 60
    while not any(private.iterdir()) and time.monotonic() < deadline:  # CBC is running in its folder
        time.sleep(0.05)
    assert any(private.iterdir()), "CBC never started"
    process.send_signal(sig)
    _, err = process.communicate(timeout=30)
    assert process.returncode == code
    assert err.splitlines()[-1] == f"niches solve: {word}"
    assert list(private.iterdir()) == []
    assert _processes_mentioning(str(private)) == []


@pytest.mark.slow
def test_ctrl_c_during_an_in_process_solve_stops_at_once(tmp_path: Path) -> None:
    scenario = _write_synthetic(tmp_path / "big.yaml", 200, worlds=20)
    process = _start(["solve", str(scenario), "--objective", "cvar"], ROOT)
    time.sleep(3)  # building and solving take much longer than this
    assert process.poll() is None
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert (process.returncode, err.splitlines()[-1]) == (130, "niches solve: interrupted")


@pytest.mark.slow
@pytest.mark.parametrize("size", [30, 6], ids=["threads", "processes"])
def test_ctrl_c_on_robust_with_workers_keeps_the_samples_done(tmp_path: Path, size: int) -> None:
    """30 niches: each sample a MILP, shared among threads; 6 niches: scored by enumeration, shared
    among processes. Either way a stop keeps every sample done and ends every worker."""
    scenario = _write_synthetic(tmp_path / "mid.yaml", size)
    process = _start(["robust", str(scenario), "--samples", "1000000", "--workers", "2", "-f", "json"], ROOT)
    waited = 0.0
    while not _sampling(process.pid, str(scenario), threads=size == 30) and waited < 300:
        time.sleep(0.2)
        waited += 0.2
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)  # the worker threads end too, or it would hang here
    assert process.returncode == 130
    data = json.loads(out)
    assert data["partial"] is True and 0 <= data["done"] < 1000000  # on a loaded machine perhaps none yet
    assert err.splitlines()[-1] == f"niches robust: interrupted after {data['done']} of 1000000 samples"
    assert _processes_mentioning(str(scenario)) == []


def _sampling(pid: int, scenario: str, threads: bool) -> bool:
    """Whether the robust run has started its workers: three threads, or two worker processes."""
    if threads:
        try:
            return len(list(Path(f"/proc/{pid}/task").iterdir())) >= 3
        except OSError:
            return False
    return len(_processes_mentioning(scenario)) >= 3
