"""The one exception type the command line turns into a one-line message (exit code 2)."""


class MiniganError(ValueError):
    """A problem with what the user asked for: bad input, a bad file, a bad option value.

    The command line prints ``minigan: error: <message>`` and exits with code 2 for
    this error, without a traceback.  It subclasses :class:`ValueError` so library users
    can catch it the ordinary way.
    """
