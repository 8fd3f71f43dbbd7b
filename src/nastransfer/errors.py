"""User-facing errors: bad input that the CLI reports as one line and exit code 2.

Every package raises a subclass of :class:`NastransferError` for input a user can fix (a config,
a genotype text, a dataset file, a checkpoint), with a message that names the problem and where.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class NastransferError(Exception):
    """Bad input a user can fix; the message is one line naming the problem and where."""


class ConfigError(NastransferError):
    """A study config, protocol or budget that cannot be used.

    `field` is the key the problem is at (`"epochs"` from a budget, `"methods[1].budget.epochs"`
    once a study's validation has placed it) and `where` the file; the message is
    `where: field: problem`, built from them, so no caller guesses the location from the words.
    """

    def __init__(self, problem: str, *, field: str | None = None, where: str | None = None) -> None:
        self.problem, self.field, self.where = problem, field, where
        super().__init__(": ".join(part for part in (where, field, problem) if part))

    def at(self, where: str, path: str) -> ConfigError:
        """This error placed under key `path` of file `where` (its own field, if any, below `path`).

        An error already placed in a file keeps its place.
        """
        if self.where is not None:
            return self
        field = f"{path}.{self.field}" if self.field else path
        return ConfigError(self.problem, field=field, where=where)


class DatasetError(NastransferError):
    """A dataset that is missing, malformed, or cannot be subset as asked."""


class GenotypeError(NastransferError):
    """A genotype or architecture text that does not parse or is not a valid cell."""


class CheckpointError(NastransferError):
    """A checkpoint that is truncated, corrupt, or carries more than plain tensors and values."""


class StoreError(NastransferError):
    """A run directory whose files (study store, resolved config, lock) cannot be used as they are."""
