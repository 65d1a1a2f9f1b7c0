"""Sub-commands of the ``minigan`` command line (see :mod:`minigan.cli`)."""
