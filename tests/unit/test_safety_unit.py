"""Settings real functions have (issue 25), read the way the SDK reads them."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from otel_lambda_init._core.config import load_config


@pytest.mark.parametrize("value", ["true", "TRUE", " True "])
def test_otel_sdk_disabled_turns_the_package_off(value: str) -> None:
    assert load_config({"OTEL_SDK_DISABLED": value}).disabled is True


@pytest.mark.parametrize("value", ["false", "1", "yes", ""])
def test_otel_sdk_disabled_accepts_only_true_as_the_sdk_does(value: str) -> None:
    assert load_config({"OTEL_SDK_DISABLED": value}).disabled is False


def _init_span_kept(delegate: object) -> bool:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_lambda_init import InitSpanSampler
    from otel_lambda_init._core import vocabulary as v

    memory = InMemorySpanExporter()
    provider = TracerProvider(sampler=InitSpanSampler(delegate))  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("init fn", attributes={v.START_SOURCE: "proc"}):
        tracer.start_span("import x", attributes={v.CHILD: "import"}).end()
    return [s.name for s in memory.get_finished_spans()] == ["import x", "init fn"]


def test_which_samplers_keep_the_init_span() -> None:
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF,
        ALWAYS_ON,
        ParentBased,
        TraceIdRatioBased,
    )

    assert _init_span_kept(ParentBased(ALWAYS_ON))
    assert _init_span_kept(TraceIdRatioBased(1e-12))
    assert _init_span_kept(ParentBased(TraceIdRatioBased(0.1)))
    assert not _init_span_kept(ALWAYS_OFF)
    assert not _init_span_kept(ParentBased(ALWAYS_OFF))
    assert not _init_span_kept(TraceIdRatioBased(0))


def test_the_exception_message_switch_is_a_boolean_defaulting_to_the_sdks_behaviour() -> None:
    assert load_config({}).record_exception_messages is True
    off = {"OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES": "false"}
    assert load_config(off).record_exception_messages is False


def test_a_phase_that_raises_after_init_keeps_only_the_type_when_messages_are_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from in_process import provider_for
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from otel_lambda_init import init_phase
    from otel_lambda_init._owner import reset_sandbox_for_tests

    monkeypatch.setenv("OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES", "false")
    owner = reset_sandbox_for_tests()
    memory = InMemorySpanExporter()
    owner.use_provider(provider_for(memory))
    try:
        with pytest.raises(ValueError), init_phase("load config"):
            raise ValueError("input_value='jane.doe@example.com'")
    finally:
        monkeypatch.delenv("OTEL_LAMBDA_INIT_RECORD_EXCEPTION_MESSAGES")
        reset_sandbox_for_tests()
    (span,) = memory.get_finished_spans()
    assert span.status.description == "ValueError"
    (event,) = span.events
    assert event.attributes is not None and "exception.message" not in event.attributes
    assert event.attributes["exception.type"] == "ValueError"


_STEP_ASIDE = """
import os, signal
from otel_lambda_init._delivery.shutdown import install_sigterm

def users(signum, frame):
    pass

signal.signal(signal.SIGTERM, users)
ours = install_sigterm(lambda budget: None)
os.register_at_fork(after_in_child=ours.step_aside)
pid = os.fork()
if pid == 0:
    os._exit(0 if signal.getsignal(signal.SIGTERM) is users else 3)
child = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
mine = signal.getsignal(signal.SIGTERM) is ours
ours.step_aside()
ours.resume()
print(child, mine, signal.getsignal(signal.SIGTERM) is ours)
"""


def test_a_forked_child_gets_back_the_sigterm_disposition_we_found() -> None:
    """A child the function forks runs the user's SIGTERM disposition (here their handler),
    the parent keeps ours, and a restore that forks takes it back."""
    out = subprocess.run(
        [sys.executable, "-c", _STEP_ASIDE], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["0", "True", "True"], out.stderr


_HELD_ACROSS_FORK = """
import os, signal

def first_in_the_child():  # registered before ours: runs in the window before we step aside
    blocked = signal.SIGTERM in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    os.write(w, b"held" if blocked else b"open")
    os.kill(os.getpid(), signal.SIGTERM)  # the pool's terminate, arriving early

r, w = os.pipe()
os.register_at_fork(after_in_child=first_in_the_child)
from otel_lambda_init._delivery.shutdown import install_sigterm

ran = []
ours = install_sigterm(lambda budget: ran.append(os.getpid()))
pid = os.fork()
if pid == 0:
    os._exit(3)  # only if the held SIGTERM did not end the child
child = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
parent_open = signal.SIGTERM not in signal.pthread_sigmask(signal.SIG_BLOCK, [])
print(os.read(r, 4).decode(), child, parent_open, signal.getsignal(signal.SIGTERM) is ours, ran)
"""


def test_a_sigterm_reaching_a_child_before_it_steps_aside_waits_for_the_default() -> None:
    """SIGTERM stays blocked in the forking thread until the child has put the default
    back: one sent to the child first is held by the kernel, then ends it by the default,
    never by our handler (which would export the parent's spans, or lose the signal)."""
    out = subprocess.run(
        [sys.executable, "-c", _HELD_ACROSS_FORK], capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["held", str(-signal.SIGTERM), "True", "True", "[]"], out


class _Provider:
    """A provider whose force_flush takes its spans at once and exports them when released."""

    def __init__(self, spans: list[str], exported: list[str], release: Any = None) -> None:
        self.spans, self.exported, self.release = spans, exported, release
        self.started = threading.Event()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        taken, self.spans = self.spans, []
        self.started.set()
        if self.release is not None:
            self.release.wait(30)
            time.sleep(0.05)  # the export's own round trip, after the collector answered
        self.exported.extend(taken)
        return True


def test_the_shutdown_flush_waits_for_what_an_earlier_flush_took() -> None:
    """Issue 25 item 6: under load the earlier (stuck) flush took the last invocation's span
    too, the flush beside it found nothing and the process ended under that export."""
    from otel_lambda_init._delivery.flush import BoundedFlusher

    exported: list[str] = []
    release = threading.Event()
    earlier = _Provider(["init", "invocation 1", "invocation 2"], exported, release)
    flusher = BoundedFlusher()
    assert flusher.flush(earlier, 0.01) is False  # the after-response bound ran out
    assert earlier.started.wait(30)
    release.set()  # the collector answers now; the export is still on its way
    assert flusher.flush(_Provider([], exported), 10.0, wait_for_earlier=True) is True
    assert exported == ["init", "invocation 1", "invocation 2"]


_INTERRUPTED_SUBMIT = """
import concurrent.futures, os, signal, time
import concurrent.futures.thread as pool_module
from otel_lambda_init._delivery.shutdown import install_sigterm

done = []

def on_shutdown(budget):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # as Resource.create does
        pool.submit(lambda: None).result(timeout=5)
    done.append("exported")

def users(signum, frame):
    done.append("user's handler")

signal.signal(signal.SIGTERM, users)
install_sigterm(on_shutdown)
# The frame SIGTERM interrupts holds concurrent.futures' global lock, as awslambdaric's
# ThreadPoolExecutor.submit does while its next-event thread starts.
with pool_module._global_shutdown_lock:
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):
        pass
deadline = time.monotonic() + 10
while "user's handler" not in done and time.monotonic() < deadline:
    time.sleep(0.01)
print(done)
"""


def test_sigterm_inside_a_pool_submit_exports_once_the_lock_is_free_then_chains() -> None:
    """Found under load: SIGTERM right after INIT met awslambdaric starting its next-event
    thread inside ``ThreadPoolExecutor.submit``; our export's ``Resource.create`` submitted
    to a pool too and waited on the lock the interrupted frame held, until SIGKILL. Now the
    export waits for the frame to let go (a few ms), then runs, then the user's handler."""
    out = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_SUBMIT], capture_output=True, text=True, timeout=30
    )
    assert out.stdout.strip() == "['exported', \"user's handler\"]", (out.stdout, out.stderr)
