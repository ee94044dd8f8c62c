"""Trust at the edges (issue 19): no file read that the user did not name, bounded reads, options in
their ranges, outputs that never overwrite an input, interrupted means interrupted."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, run_cli

DEFAULT = ROOT / "options" / "kazakhstan.yaml"
SECRET = "token-0123456789abcdef"

SMALL = """name: small
budget: 10
criteria: {a: 1}
niches:
  x: {cost: 1, scores: {a: 1}}
  y: {cost: 2, scores: {a: 3}}
"""


def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.yaml"
    secret.write_text(f"credentials: {SECRET}\n")
    return secret


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    return work


# --------------------------------------------------------------------------- files named inside files


def test_a_crafted_provenance_prints_no_byte_of_the_file_it_names(tmp_path: Path) -> None:
    secret = _secret(tmp_path)
    work = _workdir(tmp_path)
    plan = work / "plan.md"
    plan.write_text(
        "# plan\n\n## Provenance\n\n| what | value |\n|---|---|\n"
        f"| scenario | {secret} |\n| Monte Carlo | 10 samples, seed 0 |\n"
    )
    result = run_cli("report", "--check", "plan.md", cwd=work)
    assert result.returncode == 2
    assert result.stderr == (
        "niches: error: plan.md: its provenance names a scenario outside the folder niches runs in and the "
        "report's folder; give SCENARIO, or allow its folder with niches --allow-path DIR\n"
    )
    assert SECRET not in result.stdout + result.stderr


def test_a_provenance_path_with_a_nul_byte_is_one_line(tmp_path: Path) -> None:
    work = _workdir(tmp_path)
    (work / "plan.md").write_bytes(
        b"# x\n\n## Provenance\n\n| what | value |\n|---|---|\n| scenario |\x00s.yaml |\n"
    )
    result = run_cli("report", "--check", "plan.md", cwd=work)
    assert (result.returncode, result.stderr) == (
        2,
        "niches: error: plan.md: the scenario its provenance names: the path holds a NUL byte; "
        "give a file name\n",
    )


def test_a_provenance_with_numbers_out_of_range_is_refused(tmp_path: Path) -> None:
    work = _workdir(tmp_path)
    (work / "s.yaml").write_text(SMALL)
    plan = work / "plan.md"
    for line, message in [
        ("| Monte Carlo | 1000000000000 samples, seed 0 |", "records 1,000,000,000,000 samples, outside"),
        ("| Monte Carlo | 10 samples, seed -1 |", "records seed -1, outside 0 to 2^63-1; give --seed"),
        ("| Monte Carlo | 10 samples, seed " + "9" * 40 + " |", ", outside 0 to 2^63-1; give --seed"),
    ]:
        plan.write_text(
            f"# x\n\n## Provenance\n\n| what | value |\n|---|---|\n| scenario | s.yaml |\n{line}\n"
        )
        result = run_cli("report", "--check", "plan.md", cwd=work)
        assert result.returncode == 2, line
        assert (
            result.stderr.startswith("niches: error: plan.md: its provenance ") and message in result.stderr
        )


@pytest.mark.parametrize(
    ("entry", "column"), [("/etc/passwd", 10), ("/etc/*", 10), ("../secret.yaml", 10), ("/dev/zero", 10)]
)
def test_judges_outside_the_allowed_folders_are_refused(tmp_path: Path, entry: str, column: int) -> None:
    _secret(tmp_path)
    work = _workdir(tmp_path)
    (work / "s.yaml").write_text(SMALL + f'judges: ["{entry}"]\n')
    result = run_cli("validate", "s.yaml", cwd=work)
    assert result.returncode == 2
    assert result.stderr == (
        f"s.yaml:7:{column}: judges: '{entry}' is outside the folder niches runs in and the folder of "
        "s.yaml; move it there or allow its folder with `niches --allow-path DIR`\n1 of 1 file invalid\n"
    )
    assert SECRET not in result.stderr and "root:" not in result.stderr


def test_allow_path_lets_a_judge_elsewhere_be_read(tmp_path: Path) -> None:
    elsewhere = tmp_path / "panel"
    elsewhere.mkdir()
    (elsewhere / "ann.yaml").write_text("judge: Ann\nweights: {a: 1}\n")
    work = _workdir(tmp_path)
    (work / "s.yaml").write_text(SMALL + f'judges: ["{elsewhere}/*.yaml"]\n')
    assert run_cli("validate", "s.yaml", cwd=work).returncode == 2
    result = run_cli("--allow-path", str(elsewhere), "validate", "s.yaml", cwd=work)
    assert (result.returncode, result.stdout) == (0, "s.yaml: ok\n"), result.stderr


def test_a_coalition_member_outside_the_allowed_folders_is_refused(tmp_path: Path) -> None:
    _secret(tmp_path)
    work = _workdir(tmp_path)
    (work / "a.yaml").write_text(SMALL)
    (work / "c.yaml").write_text("coalition:\n  members: [a.yaml, ../secret.yaml]\n")
    result = run_cli("coalition", "c.yaml", cwd=work)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "c.yaml:2:21: member scenario '../secret.yaml' is outside the folder niches runs in and the folder "
        "of c.yaml; move it there or allow its folder with `niches --allow-path DIR`"
    )
    assert SECRET not in result.stderr


def test_the_bundled_coalition_reads_its_members_from_the_repository_root() -> None:
    result = run_cli("validate", "options/coalitions/middle_corridor.yaml")
    assert result.returncode == 0, result.stderr


def test_cr_line_ends_read_like_lf(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SMALL)
    (tmp_path / "b.yaml").write_text(SMALL)
    (tmp_path / "c.yaml").write_bytes(b"# two members\rcoalition:\r  members: [a.yaml, b.yaml]\r")
    (tmp_path / "s.yaml").write_bytes(SMALL.replace("\n", "\r").encode())
    (tmp_path / "t.yaml").write_bytes(SMALL.replace("\n", "\r\n").encode())
    result = run_cli("validate", "c.yaml", "s.yaml", "t.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "c.yaml: ok\ns.yaml: ok\nt.yaml: ok\n"


# --------------------------------------------------------------------------- bounded reads


@pytest.mark.parametrize("command", ["validate", "solve"])
def test_devices_are_refused_before_any_read(command: str) -> None:
    for device in ("/dev/zero", "/dev/urandom"):
        result = run_cli(command, device)
        assert result.returncode == 2
        assert result.stderr.splitlines()[0] == (
            f"{device}:1:1: is not a regular file (a device, FIFO or socket); give a file"
        )


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = run_cli("validate", str(fifo))  # run_cli's timeout would fail a read that waits
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[0]
        == f"{fifo}:1:1: is not a regular file (a device, FIFO or socket); give a file"
    )


def test_a_fifo_as_a_judge_file_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "ann.yaml")
    (tmp_path / "s.yaml").write_text(SMALL + 'judges: ["ann.yaml"]\n')
    result = run_cli("validate", "s.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        "s.yaml:7:10: judges: ann.yaml: is not a regular file (a device, FIFO or socket); give a file"
    )


def test_twenty_megabytes_on_standard_input_stop_at_the_limit() -> None:
    result = run_cli("validate", "-", stdin="a: b\n" * 4_000_000)
    assert result.returncode == 2
    assert result.stderr == (
        "<stdin>:1:1: more than 10 MB on standard input; scenarios are limited to 10 MB\n"
        "1 of 1 file invalid\n"
    )


def test_an_endless_stream_on_standard_input_stops_at_the_limit() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "niches", "validate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdin is not None
    try:
        while process.poll() is None:
            process.stdin.write(b"a: b\n" * 10_000)
    except BrokenPipeError:
        pass
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.decode().startswith("<stdin>:1:1: more than 10 MB on standard input")


def test_a_report_past_the_limit_is_not_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.md"
    with open(big, "wb") as out:
        out.truncate(200_000_000)  # sparse: 200 MB that take no room
    result = run_cli("report", "--check", str(big))
    assert result.returncode == 2
    assert result.stderr == f"niches: error: {big}: the file is 200.0 MB; scenarios are limited to 10 MB\n"


# --------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["robust", "--seed", "-1"],
            "niches: error: --seed '-1': expected a whole number from 0 to 2^63-1; see niches robust --help",
        ),
        (
            ["robust", "--samples", "1000000000000"],
            "niches: error: --samples '1000000000000': expected a whole number from 1 to 1,000,000, or auto; "
            "see niches robust --help",
        ),
        (
            ["robust", "--workers", "1000"],
            "niches: error: --workers '1000': expected a whole number from 1 to 256; "
            "see niches robust --help",
        ),
        (
            ["report", "--seed", "-1"],
            "niches: error: --seed '-1': expected a whole number from 0 to 2^63-1; see niches report --help",
        ),
        (
            ["report", "--samples", "1000001"],
            "niches: error: --samples '1000001': expected a whole number from 1 to 1,000,000, or auto; "
            "see niches report --help",
        ),
    ],
)
def test_numeric_options_out_of_range_exit_2_before_any_work(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert (result.returncode, result.stderr) == (2, message + "\n")


def test_two_pins_of_one_niche_are_refused_naming_both() -> None:
    result = run_cli("solve", "--pin", "ai=maintain", "--pin", "ai=lead")
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1] == "niches: error: ai=maintain and ai=lead both commit 'ai'; keep one"
    )
    result = run_cli("price", "ai=lead", "ai=maintain")
    assert result.returncode == 2
    assert (
        result.stderr.splitlines()[-1] == "niches: error: ai=lead and ai=maintain both commit 'ai'; keep one"
    )
    result = run_cli("price", "education", "-education")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "niches: error: education and -education both commit 'education'; keep one"
    )


@pytest.mark.parametrize(
    "args", [["report", "s.yaml", "-o", "s.yaml"], ["solve", "s.yaml", "--lp", "s.yaml"]]
)
def test_an_output_may_not_be_the_input(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "s.yaml").write_text(SMALL)
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == "niches: error: s.yaml: is also what this command reads; write the output elsewhere\n"
    )
    assert (tmp_path / "s.yaml").read_text() == SMALL


def test_init_keeps_a_different_schema_and_refuses_standard_output(tmp_path: Path) -> None:
    schema = tmp_path / "niches.schema.json"
    schema.write_text("{}\n")
    result = run_cli("init", "new.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr == "niches: error: niches.schema.json: already exists (another version); "
        "pass --force to overwrite it\n"
    )
    assert schema.read_text() == "{}\n" and not (tmp_path / "new.yaml").exists()
    assert run_cli("init", "new.yaml", "--force", cwd=tmp_path).returncode == 0
    assert run_cli("init", "other.yaml", cwd=tmp_path).returncode == 0  # the same schema: kept as it is
    result = run_cli("init", "-", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        2,
        "niches: error: init writes a file; give its name (niches init scenario.yaml)\n",
    )
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize(
    ("code", "reason"), [("ENOSPC", "no space left on the device"), ("EIO", "an input/output")]
)
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path, code: str, reason: str) -> None:
    program = (
        "import errno, os, sys\n"
        "def broken(fd):\n"
        f"    raise OSError(errno.{code}, os.strerror(errno.{code}))\n"
        "os.fsync = broken\n"
        "from niches.cli import main\n"
        "sys.argv = ['niches', 'init', 'new.yaml']\n"
        "main()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stderr.startswith("niches: error: niches.schema.json: cannot be written: " + reason)
    assert len(result.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- signals


@pytest.mark.slow
def test_sigterm_during_a_report_leaves_no_report_and_exits_143(tmp_path: Path) -> None:
    target = tmp_path / "plan.md"
    for moment in [0.3 * i for i in range(1, 11)]:
        process = subprocess.Popen(
            [sys.executable, "-m", "niches", "report", str(DEFAULT), "-o", str(target), "--samples", "300"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(moment)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
        if process.returncode == 0:  # the report was done before the signal: it is whole
            assert "300 sampled" in target.read_text() or "300 samples" in target.read_text()
            target.unlink()
            continue
        if process.returncode == -signal.SIGTERM:  # before Python set up its handler: killed outright
            assert not target.exists()
            continue
        assert process.returncode == 143, err
        assert err.splitlines()[-1] == "niches report: terminated"
        assert not target.exists()
        assert [p.name for p in tmp_path.iterdir()] == []


@pytest.mark.slow
def test_sigint_on_robust_with_workers_prints_no_worker_traceback(tmp_path: Path) -> None:
    for moment in (1.0, 2.0, 3.0):
        process = subprocess.Popen(
            [sys.executable, "-m", "niches", "robust", str(DEFAULT), "--samples", "20000", "--workers", "2"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(moment)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert "Traceback" not in err and "Interrupted" not in err, err
        assert process.returncode in (0, 130)
    shutil.rmtree(tmp_path, ignore_errors=True)
