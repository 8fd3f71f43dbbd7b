"""The `nastransfer` command: one module per command group, each with a `register(app)`."""

#: Seeds feed numpy and torch generators, which take 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1
