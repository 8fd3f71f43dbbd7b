"""The `nastransfer` command: one module per command group, each with a `register(app)`."""

#: Seeds feed numpy and torch generators, which take 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1


def check_output_file(path, option: str) -> None:
    """An output file's path must not be a folder: said before a search or training, not after it."""
    if path is not None and path.is_dir():
        from nastransfer.errors import ConfigError

        raise ConfigError(f"{option} {path}: is a folder; name a file to write")
