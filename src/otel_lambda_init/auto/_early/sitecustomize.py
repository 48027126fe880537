"""Put first on PYTHONPATH by ``otel-lambda-init-wrapper``: our first line runs as the
interpreter starts (before the runtime client and the function's module are imported).

It takes itself off ``PYTHONPATH`` so child processes do not run it, then hands over to any
other ``sitecustomize`` further down the path.
"""

import time

_FIRST_LINE_NS = time.time_ns()

import os  # noqa: E402
import sys  # noqa: E402


def _otel_lambda_init_early() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    python_path = os.environ.get("PYTHONPATH")
    if python_path is not None:
        kept = [p for p in python_path.split(os.pathsep) if not p or os.path.abspath(p) != here]
        if kept:
            os.environ["PYTHONPATH"] = os.pathsep.join(kept)
        else:  # the wrapper created it for us alone
            del os.environ["PYTHONPATH"]
    sys.path[:] = [p for p in sys.path if not p or os.path.abspath(p) != here]
    added = root not in sys.path
    if added:
        sys.path.append(root)
    try:
        from otel_lambda_init.auto import early

        early.start("sitecustomize", first_line_ns=_FIRST_LINE_NS)
    except Exception as error:  # never stop the function from starting
        sys.stderr.write(f"otel-lambda-init: early start failed ({error!r}); continuing\n")
    finally:
        if added and root in sys.path:
            sys.path.remove(root)


def _chain_next_sitecustomize() -> None:
    me = sys.modules.pop("sitecustomize", None)
    try:
        import sitecustomize  # noqa: F401  (the next one on sys.path, if any)
    except ImportError as error:
        if me is not None:
            sys.modules["sitecustomize"] = me
        if error.name != "sitecustomize":
            sys.stderr.write(f"otel-lambda-init: the next sitecustomize failed: {error!r}\n")
    except Exception as error:
        if me is not None and "sitecustomize" not in sys.modules:
            sys.modules["sitecustomize"] = me
        sys.stderr.write(f"otel-lambda-init: the next sitecustomize failed: {error!r}\n")


_otel_lambda_init_early()
_chain_next_sitecustomize()
