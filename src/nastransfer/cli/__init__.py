"""The `nastransfer` command: one module per command group, each with a `register(app)`."""

#: Seeds feed numpy and torch generators, which take 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1


def check_output_file(path, option: str) -> None:
    """An output file's path must not be a folder: said before a search or training, not after it."""
    if path is not None and path.is_dir():
        from nastransfer.errors import ConfigError

        raise ConfigError(f"{option} {path}: is a folder; name a file to write")


def checked_device(device: str | None) -> str | None:
    """A `--device` option checked once, before anything runs: a kind nastransfer runs on, present here."""
    if device is None:
        return None
    from nastransfer.errors import ConfigError
    from nastransfer.runtime import check_device

    try:
        return check_device(device, here=True)
    except ConfigError as err:
        raise ConfigError(err.problem, field="--device") from None
