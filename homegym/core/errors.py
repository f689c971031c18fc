"""The one exception type that the CLI turns into a one-line error and a non-zero exit, and what goes into one."""


def openvino_reason(e: BaseException) -> str:
    """The reason in an OpenVINO exception: its message opens with where in OpenVINO's C++ it was raised
    ("Exception from src/inference/src/cpp/core.cpp:84:", "Check ... failed at ..."), and the reason a person
    can act on comes last."""
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    said = [line for line in lines if not line.startswith(("Exception from ", "Check "))]
    return (said[-1] if said else lines[0] if lines else type(e).__name__)[:300]


class UserError(Exception):
    """Bad input from the user (a path, a file's content, an option): reported in one line, no traceback."""


MAX_ECHO = 80  # characters of a bad value an error repeats: enough to recognise it, never a megabyte log line


def shorten(value: object, limit: int = MAX_ECHO) -> str:
    """``repr(value)`` for an error message, cut to ``limit`` characters with the length it had."""
    text = repr(value) if not isinstance(value, (dict, list)) or len(value) < 50 else f"<{type(value).__name__} of {len(value)}>"
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"
