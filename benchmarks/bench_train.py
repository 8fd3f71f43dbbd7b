"""Images/s of the training loop's step (`train.Trainer.train_epoch`) beside a bare PyTorch loop.

Both train the same DARTS_V2 network (same initial weights) on the same pre-made batches of real
digits: the bare loop is forward, loss, zero_grad, backward, step, nothing else. The loop adds its
bookkeeping (autocast and scaler hooks, on-device loss/accuracy sums, progress callback). The two
alternate and each is timed in process CPU seconds (one thread), taking the fastest repeat, so
load from other processes on a shared machine does not masquerade as overhead.
An extra row times the loop fed by `data.BatchLoader` (gather + augmentation) for reference.

    OMP_NUM_THREADS=1 python benchmarks/bench_train.py [--repeats 5] [--batches 20]
"""

from __future__ import annotations

import argparse
import copy
import time

import torch
from rich.console import Console
from rich.table import Table

from nastransfer.spaces import parse_any
from nastransfer.train import DistContext, Trainer, build_model, get_protocol, make_loaders, prepare_data


def bare_epoch(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches) -> None:
    criterion = torch.nn.CrossEntropyLoss()
    model.train()
    for images, labels in batches:
        logits, _ = model(images)
        loss = criterion(logits, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def timed(run) -> float:
    """CPU seconds of this process (with one thread: the work itself, not the wait for a core)."""
    started = time.process_time()
    run()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=8)
    parser.add_argument("--layers", type=int, default=5)
    args = parser.parse_args()

    protocol = get_protocol(
        "cpu-mini", batch_size=args.batch_size, channels=args.channels, layers=args.layers, grad_clip=None,
        channels_last=False, amp="off", crop_padding=1,
    )
    device = torch.device("cpu")
    context = DistContext()
    train_set, test_set = prepare_data("digits", protocol)
    train_loader, _ = make_loaders(train_set, test_set, protocol, 0, device, context)
    batches = [batch for batch, _ in zip(train_loader, range(args.batches), strict=False)]
    images = sum(labels.shape[0] for _, labels in batches)

    torch.manual_seed(0)
    template = build_model(parse_any("DARTS_V2"), protocol, train_set.num_classes, train_set.in_channels)
    bare_model = copy.deepcopy(template)
    bare_optimizer = torch.optim.SGD(bare_model.parameters(), lr=protocol.lr, momentum=protocol.momentum,
                                     weight_decay=protocol.weight_decay)
    trainer = Trainer(copy.deepcopy(template), protocol, device, context)
    clipped = Trainer(copy.deepcopy(template), get_protocol(protocol, grad_clip=5.0), device, context)
    fed = Trainer(copy.deepcopy(template), protocol, device, context)
    ticks = [0]

    def tick() -> None:
        ticks[0] += 1

    def loader_batches():
        train_loader.set_epoch(0)
        return zip(train_loader, range(args.batches), strict=False)

    runs = {
        "bare loop (forward, backward, step)": lambda: bare_epoch(bare_model, bare_optimizer, batches),
        "Trainer.train_epoch": lambda: trainer.train_epoch(batches, on_step=tick),
        "Trainer.train_epoch + grad clip 5": lambda: clipped.train_epoch(batches, on_step=tick),
        "Trainer.train_epoch fed by BatchLoader": lambda: fed.train_epoch(
            (batch for batch, _ in loader_batches()), on_step=tick
        ),
    }
    for run in runs.values():  # warm-up: allocator, oneDNN primitive caches
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            seconds[name].append(timed(run))

    bare = min(seconds["bare loop (forward, backward, step)"])
    table = Table(title=(
        f"training step, DARTS_V2 C={args.channels} {args.layers} cells, digits 8x8, "
        f"batch {args.batch_size}, "
        f"{args.batches} batches, fastest of {args.repeats}, CPU seconds, {torch.get_num_threads()} thread(s)"
    ))
    for column in ("loop", "images/CPU-s", "CPU ms/step", "vs bare"):
        table.add_column(column, justify="left" if column == "loop" else "right")
    for name, times in seconds.items():
        fastest = min(times)
        table.add_row(name, f"{images / fastest:,.0f}", f"{1000 * fastest / args.batches:.1f}",
                      f"{100 * (fastest / bare - 1):+.1f} %")
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
