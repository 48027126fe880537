"""Lambda Managed Instances at SIGTERM (issue 25 item 7): the platform signals the whole
process group; a forked worker exports its own, the runtime main process waits for them."""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from otel_lambda_init._delivery.shutdown import for_workers
from otel_lambda_init._probes.process import wait_for_forked_children

FORK = multiprocessing.get_context("fork")


def _as_worker(conn: Connection) -> None:
    calls: list[float] = []
    for_workers(calls.append)(0.4)
    conn.send(calls)


def test_a_forked_worker_exports_its_own_at_sigterm() -> None:
    ours, theirs = FORK.Pipe()
    worker = FORK.Process(target=_as_worker, args=(theirs,))
    worker.start()
    assert ours.poll(30), "the worker never answered"
    assert ours.recv() == [0.4]
    worker.join(30)


def test_the_main_process_exports_nothing_and_waits_for_its_workers_within_a_bound() -> None:
    done = FORK.Event()
    worker = FORK.Process(target=done.wait, args=(30,))
    worker.start()
    try:
        assert not wait_for_forked_children(0.05)  # still running: the bound holds
    finally:
        done.set()
    calls: list[float] = []
    for_workers(calls.append)(0.4)  # waits (bounded) for the worker to end
    assert calls == []
    assert wait_for_forked_children(30)
    assert not worker.is_alive()
