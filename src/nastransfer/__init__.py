"""nastransfer: search NAS cells on small sources, train them on large targets, analyse the transfer."""

__version__ = "0.1.0"
