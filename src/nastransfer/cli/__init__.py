"""The `nastransfer` command: one module per command group, each with a `register(app)`."""
