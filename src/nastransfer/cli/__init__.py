"""The `nastransfer` command: one module per command group, each with a `register(app)`."""

#: Seeds feed numpy and torch generators, which take 0 <= seed < 2**32.
MAX_SEED = 2**32 - 1


#: Where nothing is written: kernel and device file systems (a file there is not data).
SPECIAL_ROOTS = ("/proc", "/sys", "/dev")
#: Linux's longest file name (NAME_MAX) and path (PATH_MAX, its terminating NUL included), in bytes.
NAME_MAX, PATH_MAX = 255, 4096


def check_output_file(path, option: str) -> None:
    """An output file can be written where it is named: said before a search, training or export
    computes anything, not after it. Not a folder nor a special file, not on a special file system,
    no name or path too long for the kernel, and its folder exists and takes a new file (the atomic
    writer's temporary one)."""
    if path is None:
        return
    _check_output_path(path, option)
    if path.is_dir():
        raise _output_error(option, path, "is a folder; name a file to write")
    if path.exists() and not path.is_file():
        raise _output_error(option, path, "is not a regular file")
    if not path.parent.is_dir():
        raise _output_error(option, path, f"{path.parent} is not a folder that exists")
    _check_writable(path.parent, option, path)


def check_output_folder(path, option: str) -> None:
    """An output folder (created if missing) can hold files: the `check_output_file` rules, applied to
    the folder and to the nearest folder above it that exists."""
    if path is None:
        return
    _check_output_path(path, option)
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise _output_error(option, path, f"{existing} is not a folder")
    _check_writable(existing, option, path)


def _check_output_path(path, option: str) -> None:
    import os

    absolute = os.path.abspath(path)
    longest = max(len(os.fsencode(part)) for part in absolute.split(os.sep))
    if longest > NAME_MAX:
        raise _output_error(option, path, f"a name of {longest} bytes, over {NAME_MAX}")
    size = len(os.fsencode(absolute))
    if size >= PATH_MAX:
        raise _output_error(option, path, f"a path of {size} bytes, over {PATH_MAX - 1}")
    real = os.path.realpath(absolute)
    if any(real == root or real.startswith(root + os.sep) for root in SPECIAL_ROOTS):
        raise _output_error(option, path, f"is on a special file system ({real.split(os.sep)[1]})")


def _check_writable(folder, option: str, path) -> None:
    """A new file can be made in `folder`: tried, as the atomic writer will, and removed again."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise _output_error(option, path, f"cannot write in {folder} ({err.strerror})") from None


def _output_error(option: str, path, problem: str):
    from nastransfer.errors import ConfigError

    shown = str(path) if len(str(path)) <= 80 else str(path)[:77] + "..."
    return ConfigError(f"{shown}: {problem}", field=option)


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
