"""The study's checks against the packages that own each reference: datasets against the data
readers, tables against `tabular`, protocols and overrides against `train`.

They live apart from `study.config.validation` so that every section's validation (the main study's and
`[fidelity]`'s) calls the same checks without the two modules importing each other. Each raises a
one-line `ConfigError` whose `where` is the file and `field` the key path.
"""

from __future__ import annotations

import importlib.util
import inspect
from typing import TYPE_CHECKING, Any

from nastransfer.errors import ConfigError, NastransferError

if TYPE_CHECKING:
    from nastransfer.train import Protocol


def fail(where: str, path: str, message: str) -> ConfigError:
    """The one-line error of a study key: the file, the key path (its `field`), what is wrong."""
    return ConfigError(message, field=path, where=where)


def table_space(name: str) -> str | None:
    try:
        from nastransfer import tabular

        return tabular.get_table(name).space
    except (ImportError, AttributeError, NastransferError):
        return None


def space_table(config: Any) -> str | None:
    """For a space a table may cover only part of (NAS-Bench-Graph's): the first of the study's
    tables that holds it, whose part the random baseline draws from."""
    from nastransfer import spaces

    if spaces.get_space(config.space).subspace is None:
        return None
    for table in [s.table for s in config.sources] + [t.table for t in config.targets]:
        if table is not None and table_space(table) == config.space:
            return table
    return None


def check_dataset(
    name: str, root: str | None, options: dict[str, Any], where: str, path: str, locate: bool = True
) -> None:
    """The dataset's reader exists, takes the options, and (with `locate`) its files or its Python
    package can be found on this machine."""
    from nastransfer import data

    if name not in data.dataset_names():
        raise fail(
            where, f"{path}.dataset", f"unknown dataset {name!r} (known: {', '.join(data.dataset_names())})"
        )
    spec = data.dataset_spec(name)
    accepted = list(inspect.signature(spec.reader).parameters)[3:]  # after (spec, root, train)
    for option in options:
        if option not in accepted:
            known = ", ".join(accepted) or "none"
            raise fail(
                where,
                f"{path}.options.{option}",
                f"dataset {name!r} takes no option {option!r} (options: {known})",
            )
    if spec.package is not None:
        if root is not None:
            raise fail(where, f"{path}.root", f"dataset {name!r} ships in a Python package: no root")
        if not locate:
            return
        if importlib.util.find_spec(spec.package) is None:
            raise fail(where, f"{path}.dataset", f"dataset {name!r} needs the Python package {spec.package}")
        return
    if not locate:
        return
    try:
        spec.locate(root)
    except NastransferError as err:
        raise fail(where, f"{path}.{'root' if root else 'dataset'}", str(err)) from None


def check_table(name: str | None, space: str, where: str, path: str) -> None:
    """The benchmark table can be opened and belongs to the study's space."""
    try:
        from nastransfer import tabular

        table = tabular.get_table(name)
    except (ImportError, AttributeError):
        raise fail(
            where, path, "benchmark tables need nastransfer.tabular, which is not available"
        ) from None
    except NastransferError as err:
        raise fail(where, path, str(err)) from None
    table_space = getattr(table, "space", space)
    if table_space != space:
        raise fail(
            where, path, f"table {name!r} holds {table_space} cells but the study's space is {space!r}"
        )


def check_protocol(name: str, overrides: dict[str, Any], where: str, path: str) -> Protocol:
    """The protocol `name` with `overrides`, as `train` builds it; its errors are placed at `path`."""
    from nastransfer.train import get_protocol

    try:
        return get_protocol(name, **overrides)
    except NastransferError as err:
        raise fail(where, path, str(err)) from None


def check_override_fields(overrides: dict[str, Any], where: str, path: str) -> None:
    """An override of a field no protocol has is named at its own key."""
    from nastransfer.train import Protocol

    for field in overrides:
        if field not in Protocol.model_fields:
            raise fail(where, f"{path}.{field}", f"training protocols have no field {field!r}")
