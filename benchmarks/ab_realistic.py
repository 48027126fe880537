"""The realistic function's zero-code and manual routes, one code tree against another, in the
same rounds: each tree's ``otel_lambda_init`` goes on the sandbox's ``PYTHONPATH`` as a layer
(its own exec wrapper too), beside the bare function, the floor and upstream's route
(docs/performance.md, "Toward the floor"). Trees: directories holding ``otel_lambda_init``
(a checkout's ``src``; ``git archive REV src | tar -x -C DIR`` makes one).

    python benchmarks/ab_realistic.py before=DIR after=DIR [--rounds N] [--manual] [--upstream]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench_realistic as br
from _bench import alternate, machine_line, otlp_env
from bench_init import UPSTREAM_LAYER
from stub_server import StubServer

from otel_lambda_sim.receiver import OtlpReceiver


def layer(root: Path, tag: str, tree: str) -> Path:
    """A layer directory whose ``python/otel_lambda_init`` is ``tree``'s."""
    python = root / tag / "python"
    python.mkdir(parents=True)
    (python / "otel_lambda_init").symlink_to(Path(tree, "otel_lambda_init").resolve())
    return root / tag


def routes(trees: dict[str, Path], manual: bool, upstream: bool) -> list[br.Route]:
    found = [br.Route(br.BARE, "realistic_app.handler", exports=False)]
    for tag, path in trees.items():
        wrapper = path / "python" / "otel_lambda_init" / "auto" / "otel-lambda-init-wrapper"
        env = {
            "AWS_LAMBDA_EXEC_WRAPPER": str(wrapper),
            "OTEL_LAMBDA_INIT_INSTRUMENTORS": br.INSTRUMENTORS,
        }
        found.append(br.Route(f"zero-code {tag}", "realistic_app.handler", env, [path]))
    if manual:
        for tag, path in trees.items():
            found.append(br.Route(f"manual {tag}", "realistic_manual_app.handler", {}, [path]))
    found.append(br.Route(br.FLOOR, "realistic_floor_app.handler"))
    if upstream:
        env = {
            "AWS_LAMBDA_EXEC_WRAPPER": str(UPSTREAM_LAYER / "bin" / "otel-instrument"),
            "OTEL_LAMBDA_INIT_DISABLED": "true",
            "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "otel_lambda_init",
        }
        found.append(br.Route(br.UPSTREAM, "realistic_app.handler", env, [UPSTREAM_LAYER]))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs=2, help="TAG=DIR: a directory holding otel_lambda_init")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--manual", action="store_true")
    parser.add_argument("--upstream", action="store_true")
    args = parser.parse_args()
    print(f"{args.rounds} rounds, {machine_line()}")
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        trees = {}
        for spec in args.trees:
            tag, _, tree = spec.partition("=")
            trees[tag] = layer(Path(tmp), tag, tree)
        all_routes = routes(trees, args.manual, args.upstream)
        with StubServer() as stub, OtlpReceiver() as receiver:
            runs = []
            for route in all_routes:
                env = {**otlp_env(receiver.endpoint), **stub.env, **route.env}
                runs.append((route.name, br.run_once(route, receiver, env)))
            for (_, run), route in zip(runs, all_routes, strict=True):  # unmeasured warm-up
                run()
                route.clear()
            alternate(runs, args.rounds)
    base = br.figures(all_routes[0])
    up = br.figures(all_routes[-1]) if args.upstream else None
    keys = ("cpu_ms", "init_ms", "first_done_ms", "sandbox_ms", "caller_ms", "rss_mb")
    print("\n| route | runs | CPU | CPU IQR | INIT | 1st until next | sandbox | caller | RSS |")
    print("|---|---|---|---|---|---|---|---|---|")
    for route in all_routes:
        f = br.figures(route)
        cpu = sorted(c - base["cpu_ms"] for c in route.cpu_ms)
        q = statistics.quantiles(cpu, n=4) if len(cpu) > 1 else [float("nan")] * 3
        cells = []
        for key in keys:
            added = f[key] - base[key]
            ratio = (
                ""
                if up is None or route in (all_routes[0], all_routes[-1])
                else f" ({br.ratio(added, up[key] - base[key])})"
            )
            cells.append(f"{added:+.1f}{ratio}")
        print(
            f"| {route.name} | {len(route.cpu_ms)} | {cells[0]} | {q[0]:.0f} to {q[2]:.0f} | "
            + " | ".join(cells[1:])
            + " |"
        )
        if route.failures:
            print(f"  {route.name}: {len(route.failures)} failed; first: {route.failures[0]}")
    print(f"\nbare CPU {base['cpu_ms']:.1f} ms ({time.monotonic() - t0:.0f} s; {machine_line()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
