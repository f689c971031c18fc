"""Who may open the live page, and the link that lets them in: the token, the address a phone reaches, its QR code.

On 127.0.0.1 only this box connects, and no token is asked. Listening on the network is a choice made in
config.yaml (``live.host``), and then every request must carry the token: a random one made at the first start
in ``state.dir`` (mode 0600), or the file ``live.token_file`` names. ``homegym run`` logs the link with its QR
code, and ``homegym status`` prints them again.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import socket
from pathlib import Path

import segno

from homegym.core.errors import UserError

from ..config.settings import Config

log = logging.getLogger(__name__)
TOKEN_FILE = "live-token"
WILDCARD = ("0.0.0.0", "::")


def token_path(cfg: Config) -> Path:
    return Path(cfg.live.token_file).expanduser() if cfg.live.token_file else cfg.state.path() / TOKEN_FILE


def load_token(cfg: Config, create: bool = False) -> str | None:
    """The token the page must show; None on loopback. ``create``: make one where the file is missing (the daemon)."""
    if cfg.live.loopback:
        return None
    path = token_path(cfg)
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not create or cfg.live.token_file:
            raise UserError(f"live.token_file: {path} does not exist" if cfg.live.token_file else
                            f"no live-page token yet at {path}: homegym run makes it at its first start") from None
        token = secrets.token_urlsafe(18)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(token + "\n")
        except OSError as e:
            raise UserError(f"cannot write the live page's token {path}: {e.strerror}") from None
        log.info("made a token for the live page in %s", path)
        return token
    except PermissionError:
        raise UserError(f"cannot read the live page's token {path}: run this as root (sudo)") from None
    except OSError as e:
        raise UserError(f"cannot read the live page's token {path}: {e.strerror}") from None
    if len(token) < 8:
        raise UserError(f"{path}: the live page's token must be 8 characters or more")
    return token


def lan_address() -> str:
    """This box's address on its network: the one a route to a documentation address would leave from (a UDP socket's
    connect sends nothing); the host name where there is no route."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            return str(s.getsockname()[0])
    except OSError:
        return socket.gethostname()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def page_url(cfg: Config, token: str | None) -> str:
    """The link to give a phone: the box's network address where the page listens on every address."""
    host = lan_address() if cfg.live.host in WILDCARD else cfg.live.host
    return f"http://{_url_host(host)}:{cfg.live.port}/" + (f"?token={token}" if token else "")


def local_url(cfg: Config) -> str:
    """Where a command on this box reaches the page (``homegym status``)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(cfg.live.host, cfg.live.host)
    return f"http://{_url_host(host)}:{cfg.live.port}/"


def qr_code(url: str) -> str:
    """The link as a QR code of text (two rows of modules a line), for the log and the terminal."""
    out = io.StringIO()
    segno.make(url, error="L").terminal(out=out, compact=True, border=2)
    return out.getvalue().rstrip("\n")
