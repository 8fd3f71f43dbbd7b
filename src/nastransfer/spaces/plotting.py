"""Draw cells as directed graphs with matplotlib (no graphviz): inputs, intermediate nodes, output."""

from __future__ import annotations

from pathlib import Path

from nastransfer.errors import ConfigError
from nastransfer.spaces import darts, nb201

_NODE_STYLE = {"boxstyle": "round,pad=0.35", "linewidth": 1.0}


def _draw_graph(ax, positions: dict[str, tuple[float, float]], edges: list[tuple[str, str, str]], title: str):
    """Nodes as labelled boxes at `positions`; edges (src, dst, label) as curved labelled arrows."""
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
        colour = "lightgrey" if name.startswith("c_") else "lightyellow"
        ax.text(x, y, name, ha="center", va="center", fontsize=9, bbox={**_NODE_STYLE, "facecolor": colour})
    ax.set_title(title)
    ax.axis("off")


def _darts_cell(ax, edges, concat, title: str) -> None:
    names = ["c_{k-2}", "c_{k-1}"] + [str(i) for i in range(darts.STEPS)]
    positions = {"c_{k-2}": (0.0, 1.0), "c_{k-1}": (0.0, -1.0)}
    for i in range(darts.STEPS):
        positions[str(i)] = (1.5 + 1.5 * i, 0.8 if i % 2 == 0 else -0.8)
    positions["c_{k}"] = (1.5 + 1.5 * darts.STEPS, 0.0)
    graph = [(names[index], str(position // 2), op) for position, (op, index) in enumerate(edges)]
    graph += [(names[state], "c_{k}", "") for state in concat]
    _draw_graph(ax, positions, graph, title)


def _nb201_cell(ax, arch: nb201.Arch) -> None:
    positions = {str(node): (1.5 * node, 0.8 if node % 2 else -0.8) for node in range(nb201.NODES)}
    graph = [
        (str(src), str(to), op) for (to, src), op in zip(nb201.EDGES, arch.ops, strict=True) if op != "none"
    ]
    _draw_graph(ax, positions, graph, "NAS-Bench-201 cell ('none' edges omitted)")


def _check_output(path: Path, formats: dict[str, str]) -> None:
    """The picture's format is known from its suffix and its path is free for a file."""
    if path.suffix.lstrip(".").lower() not in formats:
        known = ", ".join(f".{name}" for name in sorted(formats))
        suffix = path.suffix or "(no suffix)"
        raise ConfigError(f"{path}: unknown picture format {suffix!r}; use one of {known}")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; name a picture file")


def plot_cells(genotype: darts.Genotype | nb201.Arch, path: str | Path) -> Path:
    """Save a picture of the cell(s) to `path` (format from its suffix); DARTS gives normal above reduce."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backend_bases import FigureCanvasBase

    path = Path(path)
    _check_output(path, FigureCanvasBase.get_supported_filetypes())
    if isinstance(genotype, darts.Genotype):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7))
        _darts_cell(top, genotype.normal, genotype.normal_concat, "normal cell")
        _darts_cell(bottom, genotype.reduce, genotype.reduce_concat, "reduction cell")
    else:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        _nb201_cell(ax, genotype)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
