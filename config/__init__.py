"""Project configuration (local paths and defaults): see :mod:`config.settings`."""
