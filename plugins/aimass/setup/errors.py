"""The one exception setup raises: its message is printed as is, without a traceback."""


class SetupError(RuntimeError):
    """Setup cannot continue; the message says what is wrong and what to do."""
