"""Keras (and TensorFlow under it), imported without TensorFlow's native start-up lines on stderr.

On import, TensorFlow's C++ side writes informational lines straight to file descriptor 2
("oneDNN custom operations are on" on Intel CPUs, the absl pre-init warning), and some of
them ignore TF_CPP_MIN_LOG_LEVEL. A command's stderr is where its one-line errors go, so the
first import runs with descriptor 2 pointed at a temporary file; its lines are kept in the
debug log (``-v``), not lost.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile

log = logging.getLogger(__name__)


def keras():
    """The ``keras`` module; raises ImportError where TensorFlow is not installed."""
    if sys.modules.get("keras") is not None:  # None there means "import fails", as tests arrange
        return sys.modules["keras"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile("w+") as native:
        os.dup2(native.fileno(), 2)
        try:
            import keras as module
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            native.seek(0)
            for line in native.read().splitlines():
                if line.strip():
                    log.debug("tensorflow: %s", line)
    return module
