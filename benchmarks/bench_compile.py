"""torch.compile vs eager per network on this CPU: speed-up, compile time, graph breaks, steps to repay.

Each row times SGD steps (forward, loss, backward, step; process CPU-seconds, as wall time is
unreliable on a shared machine) of one network on random data, first eager then compiled as the
trainer compiles (`nets.compile_net(net)`, loss and optimizer eager), in one process on one thread
with inductor compiling in-process (so its CPU time is counted). A supernet step is a search
step of its form (a fresh Gumbel sample per step in the sampled form; the RSWS row trains a newly
drawn path with every op weighted 0/1, as `rsws` does). `compile` is the CPU time the compiled
steps took beyond `steps` compiled steps at the median compiled speed; `repay` is the steps after
which the compiled run has caught up with eager (compile / time saved per step; "never" if the
compiled step is not faster). Each row compiles with an empty inductor cache of its own: a cache
left by an earlier run would hide most of the compile. `breaks` counts dynamo's graph breaks over
the whole run, `graphs` the graphs it compiled (recompiles included).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compile.py [--only darts-mixed,nb201-mixed]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial

import torch
import torch._dynamo
import torch._inductor.config
from rich.console import Console
from rich.table import Table
from torch import nn
from torch._inductor.runtime.cache_dir_utils import temporary_cache_dir

from nastransfer.nets import EvalNet, compile_net
from nastransfer.nets.supernets import build_supernet
from nastransfer.search.rsws import sample_path
from nastransfer.spaces import parse_any

FORMS = ("mixed", "partial", "sampled", "rsws")
SIZES = {"darts": {"C": 8, "layers": 3}, "nb201": {"C": 8, "N": 1}}


def networks(channels: int, cells: int) -> dict[str, tuple[nn.Module, Callable]]:
    """Row name -> (network, how a step calls it: `call(net, x)`)."""
    rows: dict[str, tuple[nn.Module, Callable]] = {
        "darts-v2": (
            EvalNet(parse_any("DARTS_V2"), C=channels, layers=cells, num_classes=10),
            lambda net, x: net(x),
        )
    }
    for space, size in SIZES.items():
        for form in FORMS:
            net = build_supernet(space, num_classes=10, form="mixed" if form == "rsws" else form, k=2, **size)
            call = {"rsws": _rsws_call(space), "sampled": partial(_fixed_sample_call, seed=0)}.get(
                form, lambda net, x: net(x)
            )
            rows[f"{space}-{form}"] = (net, call)
    return rows


def _rsws_call(space: str) -> Callable:
    def call(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
        seed = int(torch.randint(0, 2**31 - 1, ()))
        return net(x, path=sample_path(space, seed), every_op=True)

    return call


def _fixed_sample_call(net: nn.Module, x: torch.Tensor, seed: int) -> torch.Tensor:
    """A forward on the Gumbel sample that ``seed`` draws (the same one at every step)."""
    torch.manual_seed(seed)
    return net(x)


def step_cpu_seconds(net: nn.Module, call: Callable, x: torch.Tensor, steps: int) -> list[float]:
    """CPU-seconds of each of ``steps`` SGD steps of ``net`` (called through ``call``)."""
    optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    times = []
    for _ in range(steps):
        start = time.process_time()
        out = call(net, x)
        logits = out[0] if isinstance(out, tuple) else out
        loss = logits.float().square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.process_time() - start)
    return times


def measure(
    net: nn.Module, call: Callable, x: torch.Tensor, warmup: int, timed: int, fresh: int
) -> dict[str, float]:
    """Eager and compiled CPU-seconds per step, compile CPU-seconds, graph breaks and graphs; with
    ``fresh`` > 0 (sampled rows) also the mean CPU-seconds a step on a new sample adds."""
    torch.manual_seed(0)
    eager = statistics.median(step_cpu_seconds(net, call, x, warmup + timed)[warmup:])
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    torch.manual_seed(0)
    compiled_net = compile_net(net)
    with tempfile.TemporaryDirectory() as cold, temporary_cache_dir(cold):
        times = step_cpu_seconds(compiled_net, call, x, warmup + timed)
        compiled = statistics.median(times[warmup:])
        new_sample = [
            step_cpu_seconds(compiled_net, partial(_fixed_sample_call, seed=1 + i), x, 1)[0] - compiled
            for i in range(fresh)
        ]
    counters = torch._dynamo.utils.counters
    return {
        "eager": eager,
        "compiled": compiled,
        "compile": sum(times) - len(times) * compiled,
        "new_sample": statistics.mean(new_sample) if new_sample else 0.0,
        "breaks": sum(counters["graph_break"].values()),
        "graphs": counters["stats"]["unique_graphs"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=8, help="channels of the DARTS_V2 network")
    parser.add_argument("--cells", type=int, default=5, help="cells of the DARTS_V2 network")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--size", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps (the compile happens here)")
    parser.add_argument("--timed", type=int, default=6)
    parser.add_argument("--fresh", type=int, default=2, help="new-sample steps of a sampled row")
    parser.add_argument("--only", default="", help="comma-separated rows (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch._inductor.config.compile_threads = 1
    torch.manual_seed(0)
    rows = networks(args.channels, args.cells)
    chosen = [name for name in args.only.split(",") if name] or list(rows)
    unknown = sorted(set(chosen) - set(rows))
    if unknown:
        parser.error(f"unknown rows {', '.join(unknown)} (known: {', '.join(rows)})")
    table = Table(
        title=f"torch.compile vs eager, batch {args.batch}, {args.size} px, 1 thread (CPU-seconds; "
        f"DARTS_V2 C={args.channels} {args.cells} cells, supernets {SIZES})"
    )
    for column in (
        "network",
        "eager s/step",
        "compiled s/step",
        "speed-up",
        "compile s",
        "new-sample s",
        "breaks",
        "graphs",
        "repay steps",
    ):
        table.add_column(column, justify="right")
    x = torch.randn(args.batch, 3, args.size, args.size).contiguous(memory_format=torch.channels_last)
    for name in chosen:
        net, call = rows[name]
        net = net.to(memory_format=torch.channels_last).train()
        sampled = name.endswith("-sampled")
        m = measure(net, call, x, args.warmup, args.timed, args.fresh if sampled else 0)
        saved = m["eager"] - m["compiled"]
        repays = saved > 0 and not (sampled and m["new_sample"] > saved)
        repay = f"{m['compile'] / saved:,.0f}" if repays else "never"
        table.add_row(
            name,
            f"{m['eager']:.4f}",
            f"{m['compiled']:.4f}",
            f"{m['eager'] / m['compiled']:.2f}x",
            f"{m['compile']:.0f}",
            f"{m['new_sample']:.0f}" if sampled else "-",
            str(m["breaks"]),
            str(m["graphs"]),
            repay,
        )
        print(name, m, flush=True)
    Console().print(table)


if __name__ == "__main__":
    main()
