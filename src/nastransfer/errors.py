"""User-facing errors: bad input that the CLI reports as one line and exit code 2.

Every package raises a subclass of :class:`NastransferError` for input a user can fix (a config,
a genotype text, a dataset file, a checkpoint), with a message that names the problem and where.
Anything else is a bug and keeps its traceback.
"""


class NastransferError(Exception):
    """Bad input a user can fix; the message is one line naming the problem and where."""


class ConfigError(NastransferError):
    """A study config, protocol or budget that cannot be used."""


class DatasetError(NastransferError):
    """A dataset that is missing, malformed, or cannot be subset as asked."""


class GenotypeError(NastransferError):
    """A genotype or architecture text that does not parse or is not a valid cell."""


class CheckpointError(NastransferError):
    """A checkpoint that is truncated, corrupt, or carries more than plain tensors and values."""


class StoreError(NastransferError):
    """A run directory whose files (study store, resolved config, lock) cannot be used as they are."""
