"""The one exception type that the CLI turns into a one-line error and a non-zero exit."""


class UserError(Exception):
    """Bad input from the user (a path, a file's content, an option): reported in one line, no traceback."""
