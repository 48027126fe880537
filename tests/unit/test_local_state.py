"""The sandbox-local state machine: fresh INIT, timed-out or failed attempt, restarted runtime."""

from __future__ import annotations

from pathlib import Path

from otel_lambda_init._core import history
from otel_lambda_init._core.history import failed_attempt_record
from otel_lambda_init._probes import state_file
from otel_lambda_init._probes.state_file import StateFile, state_path

S = 1_000_000_000


def state(tmp_path: Path, pid: int) -> StateFile:
    return StateFile(state_path("2026/11/23/[$LATEST]abc", str(tmp_path)), pid)


def test_first_process_of_a_sandbox_is_attempt_one(tmp_path: Path) -> None:
    found = state(tmp_path, 10).begin(100 * S)
    assert found.attempt == 1 and not found.reran and found.failed_status is None


def test_an_attempt_that_never_finished_makes_the_next_a_rerun_with_a_failed_child(
    tmp_path: Path,
) -> None:
    state(tmp_path, 10).begin(100 * S)  # killed by the cap: status stays "running"
    found = state(tmp_path, 11).begin(200 * S)
    assert found.reran and found.failed_status == "running" and found.attempt == 2
    record = failed_attempt_record(found, 200 * S)
    assert record is not None
    assert record.start_ns == 100 * S and record.end_ns == 110 * S  # start + the 10 s cap
    assert record.error and record.attributes["lambda_init.attempt.outcome"] == "timeout"


def test_a_scaled_cap_ends_the_failed_attempt_when_the_rerun_started(tmp_path: Path) -> None:
    state(tmp_path, 10).begin(100 * S)
    found = state(tmp_path, 11).begin(int(101.6 * S))
    record = failed_attempt_record(found, int(101.6 * S))
    assert record is not None and record.end_ns == int(101.6 * S)


def test_an_init_error_is_a_failed_attempt_with_outcome_error(tmp_path: Path) -> None:
    first = state(tmp_path, 10)
    first.begin(100 * S)
    first.set_status(history.ERROR)
    found = state(tmp_path, 11).begin(120 * S)
    record = failed_attempt_record(found, 120 * S)
    assert record is not None and record.attributes["lambda_init.attempt.outcome"] == "error"


def test_a_restarted_runtime_continues_the_invocation_counter(tmp_path: Path) -> None:
    first = state(tmp_path, 10)
    first.begin(100 * S)
    first.set_status(history.DONE)
    for _ in range(3):
        first.count_invocation()
    found = state(tmp_path, 11).begin(300 * S)
    assert found.restarted and found.reran and found.invocations == 3
    assert failed_attempt_record(found, 300 * S) is None


def test_a_corrupt_state_file_counts_as_a_fresh_sandbox(tmp_path: Path) -> None:
    s = state(tmp_path, 10)
    Path(s.path).write_text("{not json")
    found = s.begin(100 * S)
    assert found.attempt == 1 and not found.reran


def test_state_is_keyed_per_sandbox(tmp_path: Path) -> None:
    state(tmp_path, 10).begin(100 * S)
    other = StateFile(state_path("2026/11/23/[$LATEST]def", str(tmp_path)), 11)
    assert other.begin(200 * S).attempt == 1


def test_state_dir_honours_tmpdir(tmp_path: Path) -> None:
    assert state_file.state_dir({"TMPDIR": str(tmp_path)}) == str(tmp_path)
    assert state_file.state_dir({"TMPDIR": str(tmp_path / "missing")}) == "/tmp"


def test_the_counter_is_written_in_place_and_the_file_stays_valid_json(tmp_path: Path) -> None:
    import json
    import os

    first = state(tmp_path, os.getpid())
    first.begin(100 * S)
    first.set_status(history.DONE)
    inode = os.stat(first.path).st_ino
    for n in range(1, 1_002):
        first.count_invocation()
        if n in (1, 9, 10, 1_001):
            on_disk = json.loads(Path(first.path).read_bytes())
            assert on_disk["invocations"] == n and history.validated(on_disk) is not None
    assert os.stat(first.path).st_ino == inode  # no rewrite per invocation
    first.set_status(history.ERROR)  # a transition rewrites it whole; counting goes on
    first.count_invocation()
    assert json.loads(Path(first.path).read_bytes())["invocations"] == 1_002


def test_a_counter_file_replaced_behind_our_back_is_not_written_through(
    tmp_path: Path,
) -> None:
    import json
    import os

    first = state(tmp_path, os.getpid())
    first.begin(100 * S)
    os.unlink(first.path)
    Path(first.path).write_text('{"planted": true}')
    first.count_invocation()  # goes to the unlinked inode we created, never the planted file
    assert json.loads(Path(first.path).read_text()) == {"planted": True}


def test_counted_without_writing_is_written_by_the_next_write_or_at_sigterm(
    tmp_path: Path,
) -> None:
    import json
    import os

    first = state(tmp_path, os.getpid())
    first.begin(100 * S)

    def on_disk() -> int:
        return int(json.loads(Path(first.path).read_bytes())["invocations"])

    first.count_invocation(write=False)  # an export cadence's window that exported nothing
    first.count_invocation(write=False)
    assert on_disk() == 0
    first.count_invocation()  # a window that exported writes the whole count
    assert on_disk() == 3
    first.count_invocation(write=False)
    first.write_pending()  # SIGTERM
    assert on_disk() == 4
    first.write_pending()  # nothing pending: nothing written
    assert on_disk() == 4
