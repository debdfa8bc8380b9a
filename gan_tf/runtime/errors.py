"""The one exception type for bad input from the user."""


class UserError(ValueError):
    """Bad input from the user: a flag, a path, a dataset or a checkpoint that cannot be used.

    The command line prints the message as one line and exits with status 2, so the message must
    say what is wrong and what to do about it. Anything else that goes wrong is a bug and keeps its
    traceback.
    """
