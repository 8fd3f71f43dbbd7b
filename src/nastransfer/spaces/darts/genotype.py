"""The DARTS cell genotype: plain data, its `genotypes.py` text form, validation and canonical key.

A cell has two inputs (states 0 and 1: the outputs of the two previous cells) and `STEPS`
intermediate nodes (states 2..5). Node `i` sums two edges, each an (op, input state) pair whose
input is any earlier state; edges are listed node by node, two per node. The cell's output
concatenates the states named by `concat`.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nastransfer.errors import GenotypeError

OPS: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
STEPS = 4
EDGES_PER_CELL = 2 * STEPS
DEFAULT_CONCAT: tuple[int, ...] = tuple(range(2, 2 + STEPS))
CELL_FIELDS = ("normal", "reduce")
FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")

Edge = tuple[str, int]
Cell = tuple[Edge, ...]


def _as_cell(edges: Iterable, field: str) -> Cell:
    """Turn any sequence of (op, input) pairs into a tuple of tuples, naming the first bad entry."""
    if isinstance(edges, str | bytes) or not isinstance(edges, Sequence):
        raise GenotypeError(f"{field} is {edges!r}, not a list of (op, input) pairs")
    cell = []
    for position, edge in enumerate(edges):
        if isinstance(edge, str | bytes) or not isinstance(edge, Sequence) or len(edge) != 2:
            raise GenotypeError(f"{field}[{position}] is {edge!r}, not an (op, input) pair")
        op, index = edge
        if not isinstance(op, str):
            raise GenotypeError(f"{field}[{position}] op is {op!r}, not a string")
        if isinstance(index, bool) or not isinstance(index, int):
            raise GenotypeError(f"{field}[{position}] input is {index!r}, not an integer")
        cell.append((op, index))
    return tuple(cell)


def _as_concat(values: Iterable, field: str) -> tuple[int, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | range):
        raise GenotypeError(f"bad concat: {field} is {values!r}, not a list of node numbers")
    concat = tuple(values)
    for value in concat:
        if isinstance(value, bool) or not isinstance(value, int):
            raise GenotypeError(f"bad concat: {field} holds {value!r}, not an integer")
    return concat


@dataclass(frozen=True)
class Genotype:
    """A DARTS normal + reduction cell pair; immutable, hashable, validated on construction."""

    normal: Cell
    normal_concat: tuple[int, ...]
    reduce: Cell
    reduce_concat: tuple[int, ...]

    def __post_init__(self) -> None:
        for field in CELL_FIELDS:
            object.__setattr__(self, field, _as_cell(getattr(self, field), field))
            concat_field = f"{field}_concat"
            object.__setattr__(self, concat_field, _as_concat(getattr(self, concat_field), concat_field))
        self.validate()

    def validate(self) -> Genotype:
        """Raise GenotypeError naming the first problem (op, input, node, concat); return self."""
        for field in CELL_FIELDS:
            cell = getattr(self, field)
            if len(cell) != EDGES_PER_CELL:
                raise GenotypeError(
                    f"{field} has {len(cell)} edges; each of its {STEPS} nodes needs exactly 2 inputs "
                    f"({EDGES_PER_CELL} edges)"
                )
            for position, (op, index) in enumerate(cell):
                node = position // 2
                if op not in OPS:
                    raise GenotypeError(f"unknown op {op!r} at {field}[{position}] (known: {', '.join(OPS)})")
                if not 0 <= index <= node + 1:
                    raise GenotypeError(
                        f"input {index} out of range for node {node} at {field}[{position}] "
                        f"(allowed 0..{node + 1})"
                    )
            for node in range(STEPS):
                # one input may feed a node twice through two ops (the released GDAS rule finds such cells)
                if tuple(cell[2 * node]) == tuple(cell[2 * node + 1]):
                    raise GenotypeError(f"repeated edge {tuple(cell[2 * node])} for node {node} of {field}")
            concat_field = f"{field}_concat"
            concat = getattr(self, concat_field)
            allowed = range(2, 2 + STEPS)
            if not concat or len(set(concat)) != len(concat) or any(v not in allowed for v in concat):
                raise GenotypeError(
                    f"bad concat: {concat_field}={list(concat)} must list distinct intermediate nodes "
                    f"from {allowed.start}..{allowed.stop - 1}"
                )
        return self

    def __str__(self) -> str:
        def cell_text(cell: Cell) -> str:
            return "[" + ", ".join(f"({op!r}, {index})" for op, index in cell) + "]"

        return (
            f"Genotype(normal={cell_text(self.normal)}, normal_concat={list(self.normal_concat)}, "
            f"reduce={cell_text(self.reduce)}, reduce_concat={list(self.reduce_concat)})"
        )

    @property
    def key(self) -> str:
        """Canonical hash: equal for cells that differ only in the order of a node's two inputs."""
        parts = []
        for field in CELL_FIELDS:
            cell = getattr(self, field)
            nodes = [sorted(cell[2 * i : 2 * i + 2]) for i in range(STEPS)]
            parts.append(f"{field}:{nodes};{sorted(getattr(self, field + '_concat'))}")
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        """JSON-ready: cells as lists of [op, input], concats as lists."""
        return {
            "normal": [[op, index] for op, index in self.normal],
            "normal_concat": list(self.normal_concat),
            "reduce": [[op, index] for op, index in self.reduce],
            "reduce_concat": list(self.reduce_concat),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Genotype:
        """Inverse of `to_dict`; missing concats default to all intermediate nodes."""
        if not isinstance(data, dict):
            raise GenotypeError(f"genotype data is a {type(data).__name__}, not a dict")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise GenotypeError(f"unknown genotype field {unknown[0]!r} (fields: {', '.join(FIELDS)})")
        for field in CELL_FIELDS:
            if field not in data:
                raise GenotypeError(f"genotype data lacks the {field!r} cell")
        return cls(
            normal=data["normal"],
            normal_concat=data.get("normal_concat", DEFAULT_CONCAT),
            reduce=data["reduce"],
            reduce_concat=data.get("reduce_concat", DEFAULT_CONCAT),
        )

    @classmethod
    def parse(cls, text: str) -> Genotype:
        """Read the `genotypes.py` form, optionally as `NAME = Genotype(...)`; never evaluates code."""
        return cls.from_dict(_parse_fields(text))


def _parse_fields(text: str) -> dict:
    stripped = text.strip()
    try:
        module = ast.parse(stripped)
    except SyntaxError as err:
        raise GenotypeError(f"genotype text does not parse: {err.msg} at column {err.offset}") from None
    if len(module.body) != 1:
        raise GenotypeError(f"genotype text holds {len(module.body)} statements, expected one Genotype(...)")
    statement = module.body[0]
    is_assignment = (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name)
    )
    if is_assignment or isinstance(statement, ast.Expr):
        call = statement.value
    else:
        raise GenotypeError("genotype text is neither Genotype(...) nor NAME = Genotype(...)")
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Genotype"):
        raise GenotypeError(f"expected a Genotype(...) call, got {ast.unparse(call)[:60]!r}")
    if len(call.args) > len(FIELDS):
        raise GenotypeError(
            f"Genotype(...) takes at most {len(FIELDS)} positional fields, got {len(call.args)}"
        )
    fields = {}
    for name, node in zip(FIELDS, call.args, strict=False):
        fields[name] = _literal(node, name)
    for keyword in call.keywords:
        if keyword.arg is None:
            raise GenotypeError("Genotype(...) text may not use ** arguments")
        if keyword.arg not in FIELDS:
            raise GenotypeError(f"unknown genotype field {keyword.arg!r} (fields: {', '.join(FIELDS)})")
        if keyword.arg in fields:
            raise GenotypeError(f"genotype field {keyword.arg!r} given twice")
        fields[keyword.arg] = _literal(keyword.value, keyword.arg)
    return fields


def _literal(node: ast.expr, field: str):
    """A literal value, or `range(a, b)` for a concat field."""
    if field.endswith("_concat") and isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id == "range" and not node.keywords):
            raise GenotypeError(f"bad concat: {field} is {ast.unparse(node)!r}; use a list or range(a, b)")
        bounds = [_literal(arg, field) for arg in node.args]
        if not 1 <= len(bounds) <= 2 or not all(isinstance(b, int) for b in bounds):
            raise GenotypeError(f"bad concat: {field} is {ast.unparse(node)!r}; use a list or range(a, b)")
        return tuple(range(*bounds))
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise GenotypeError(f"genotype field {field} is not a literal: {ast.unparse(node)[:60]!r}") from None
