"""Draw cells as directed graphs with matplotlib (no graphviz): inputs, intermediate nodes, output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nastransfer.errors import ConfigError
from nastransfer.spaces.registry import Diagram, space_of

_NODE_STYLE = {"boxstyle": "round,pad=0.35", "linewidth": 1.0}


def _draw_graph(
    ax,
    positions: dict[str, tuple[float, float]],
    edges: list[tuple[str, str, str]],
    title: str,
    inputs: set[str],
):
    """Nodes as boxes at `positions` (inputs grey); edges (src, dst, label) as curved labelled arrows."""
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(min(ys) - 1.2, max(ys) + 1.2)
    for src, dst, label in edges:
        start, end = positions[src], positions[dst]
        rad = 0.25 if end[0] - start[0] > 1.5 else 0.1
        ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops={
                "arrowstyle": "-|>",
                "connectionstyle": f"arc3,rad={rad}",
                "shrinkA": 14,
                "shrinkB": 14,
            },
        )
        # arc3 bends towards midpoint + rad * (dy, -dx) in display space; the curve peaks halfway there.
        (x0, y0), (x1, y1) = ax.transData.transform([start, end])
        peak = ((x0 + x1) / 2 + rad * (y1 - y0) / 2, (y0 + y1) / 2 - rad * (x1 - x0) / 2)
        mx, my = ax.transData.inverted().transform(peak)
        ax.text(
            mx,
            my,
            label,
            fontsize=7,
            ha="center",
            va="center",
            color="tab:blue",
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5},
        )
    for name, (x, y) in positions.items():
        colour = "lightgrey" if name in inputs else "lightyellow"
        ax.text(x, y, name, ha="center", va="center", fontsize=9, bbox={**_NODE_STYLE, "facecolor": colour})
    ax.set_title(title)
    ax.axis("off")


def _draw_diagram(ax, diagram: Diagram) -> None:
    """Nodes left to right in the order edges reach them, zigzagging; several inputs stack on the
    left and the last node (their cell's output) sits between them ('none' edges omitted)."""
    inputs = list(diagram.inputs)
    nodes = list(dict.fromkeys(to for _, to, _ in diagram.edges if to not in inputs))
    if len(inputs) == 1:
        positions = {name: (1.5 * i, -0.8 if i % 2 == 0 else 0.8) for i, name in enumerate(inputs + nodes)}
    else:
        heights = np.linspace(1.0, -1.0, len(inputs))
        positions = {name: (0.0, float(y)) for name, y in zip(inputs, heights, strict=True)}
        for i, name in enumerate(nodes):
            positions[name] = (1.5 * (i + 1), 0.0 if i == len(nodes) - 1 else (0.8 if i % 2 == 0 else -0.8))
    edges = [edge for edge in diagram.edges if edge[2] != "none"]
    _draw_graph(ax, positions, edges, diagram.title, set(inputs))


def _check_output(path: Path, formats: dict[str, str]) -> None:
    """The picture's format is known from its suffix and its path is free for a file."""
    if path.suffix.lstrip(".").lower() not in formats:
        known = ", ".join(f".{name}" for name in sorted(formats))
        suffix = path.suffix or "(no suffix)"
        raise ConfigError(f"{path}: unknown picture format {suffix!r}; use one of {known}")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; name a picture file")


def plot_cells(genotype: Any, path: str | Path) -> Path:
    """Save a picture of the cell(s) to `path` (format from its suffix); DARTS gives normal above reduce."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    _check_output(path, FigureCanvasBase.get_supported_filetypes())
    space = space_of(genotype)
    if space.diagrams is None:
        raise ConfigError(f"search space {space.name!r} has no diagram of its cells")
    diagrams = space.diagrams(genotype)
    fig, axes = plt.subplots(len(diagrams), 1, figsize=(9 if len(diagrams) > 1 else 7, 3.5 * len(diagrams)))
    for ax, diagram in zip(np.atleast_1d(axes), diagrams, strict=True):
        _draw_diagram(ax, diagram)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
