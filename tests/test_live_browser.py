"""The live page in a real headless browser: Debian's chromium, driven by Playwright (its own browser download cannot be
had here, so ``executable_path`` names Debian's; as root it needs --no-sandbox). ``homegym run`` plays rendered clips
in real time; the page loads, the count rises, the placement sentence for feet cut off shows, and the page comes back
by itself after the daemon restarts.

``HOMEGYM_SCREENSHOTS=docs/img pytest tests/test_live_browser.py`` writes the screenshots in docs/live-page.md (from
rendered clips only).
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest
from support import Stderr, live_config, start_daemon, wait_http

from homegym.measure.broker import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = os.environ.get("HOMEGYM_SCREENSHOTS")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"] if os.geteuid() == 0 else [])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    pg = context.new_page()
    yield pg
    context.close()


def shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"live-{name}.jpg"), type="jpeg", quality=85)  # rendered rooms: 4x smaller than PNG


class Daemon:
    """``homegym run`` on a clip in real time, the live page on ``port``; stopped on exit."""

    def __init__(self, tmp_path: Path, clip: Path, port: int) -> None:
        self.proc = start_daemon(live_config(tmp_path, clip, port, state=tmp_path / "state"))
        self.log = Stderr(self.proc)
        assert wait_http(f"http://127.0.0.1:{port}/static/page.css", 90), self.log.text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)

    def __enter__(self) -> Daemon:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def number(page, selector: str) -> int:
    return int(page.text_content(selector) or 0)


def until(page, check, timeout_s: float = 30) -> None:
    """Poll ``check(page)`` from here (the page's own CSP forbids the string evaluation wait_for_function uses)."""
    for _ in range(int(timeout_s * 10)):
        if check(page):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"timed out after {timeout_s} s")


def picture_shown(page) -> bool:
    return bool(page.eval_on_selector("#picture", "img => img.naturalWidth > 0"))


def test_the_page_loads_and_the_count_rises_while_a_clip_plays(tmp_path, live_clips, page, browser) -> None:
    port = free_port()
    with Daemon(tmp_path, live_clips / "pushup.mp4", port):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#conn.up", timeout=30_000)
        assert page.title() == "HomeGym Spotter"
        seen = []
        until(page, picture_shown)
        for _ in range(400):  # the clip lasts 10 s; read the count every 50 ms until its 3 reps are in
            n = number(page, "#reps")
            if not seen or n != seen[-1]:
                seen.append(n)
            if n >= 2 and SHOTS and not (Path(SHOTS) / "live-counting.jpg").exists():
                shot(page, "counting")
            if n >= 3:
                break
            page.wait_for_timeout(50)
        assert seen[0] == 0 and seen[-1] == 3 and seen == sorted(seen) and len(seen) >= 3, seen
        assert page.text_content("#exercise") == "Push-ups" and number(page, "#total") == 3
        assert page.get_attribute("#picture", "src").startswith("video.mjpg")
        wall = page.context.new_page()
        wall.goto(f"http://127.0.0.1:{port}/display")
        until(wall, lambda pg: pg.text_content("#reps") == "3", 20)
        assert wall.is_hidden("header") and wall.is_hidden("#picture-card") and not wall.get_attribute("#picture", "src")
        big = wall.evaluate("parseFloat(getComputedStyle(document.getElementById('reps')).fontSize)")
        assert big > 200, "display mode: digits large enough to read across the room"
        shot(wall, "display")
        wall.close()


def test_the_page_says_when_the_feet_are_out_of_frame(tmp_path, live_clips, page) -> None:
    port = free_port()
    with Daemon(tmp_path, live_clips / "feet_cut.mp4", port):
        page.goto(f"http://127.0.0.1:{port}/")
        hint = page.wait_for_selector("#placement li[data-code=cut_feet]", timeout=30_000)
        assert hint.text_content() == "Move the camera back or tilt it down: your feet are out of frame."
        until(page, picture_shown)
        page.wait_for_timeout(500)
        shot(page, "feet-cut-off")


def test_the_page_comes_back_by_itself_after_the_daemon_restarts(tmp_path, live_clips, page) -> None:
    port = free_port()
    pictures: list[str] = []
    page.on("request", lambda r: pictures.append(r.url) if "video.mjpg" in r.url else None)
    with Daemon(tmp_path, live_clips / "stand.mp4", port) as first:
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#placement li[data-code=ok]", timeout=30_000)
        first.stop()
        page.wait_for_selector("#conn.down", timeout=10_000)
        assert page.text_content("#conn") == "reconnecting…"
        assert "daemon not answering" in page.text_content("#health"), "no stale health while the daemon is away"
        shot(page, "reconnecting")
    opened = len(pictures)
    with Daemon(tmp_path, live_clips / "pushup.mp4", port):
        page.wait_for_selector("#conn.up", timeout=30_000)  # the same page, never reloaded
        until(page, lambda pg: number(pg, "#reps") >= 1)
        assert len(pictures) > opened, "the picture's stream was opened again"
        page.wait_for_timeout(1000)
        shot(page, "reconnected")


# A local voice for the page (headless chromium has none where no speech engine is installed), and a spy on speak:
# the words the page asks the browser to say. The voice is a plain object, so the utterance's voice setter is relaxed.
SPEECH_SPY = """
window.__spoken = [];
const voices = %s;
Object.defineProperty(speechSynthesis, "getVoices", { value: () => voices });
Object.defineProperty(SpeechSynthesisUtterance.prototype, "voice", { set(v) { this.__voice = v; }, get() { return this.__voice; } });
speechSynthesis.speak = (u) => window.__spoken.push([u.text, u.voice && u.voice.localService]);
"""
LOCAL = '[{ name: "Local", lang: "en-US", localService: true, default: true, voiceURI: "local" }]'
REMOTE = '[{ name: "Cloud", lang: "en-US", localService: false, default: true, voiceURI: "cloud" }]'


def test_the_count_is_spoken_in_a_local_voice_once_turned_on_and_the_choice_is_kept(tmp_path, live_clips, browser) -> None:
    port = free_port()
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    context.add_init_script(SPEECH_SPY % LOCAL)
    page = context.new_page()
    with Daemon(tmp_path, live_clips / "pushup.mp4", port):
        page.goto(f"http://127.0.0.1:{port}/display")
        page.wait_for_selector("#conn.up", state="attached", timeout=30_000)  # display mode hides the header
        assert page.get_attribute("#speak", "aria-pressed") == "false", "off by default"
        page.click("#speak")
        assert page.get_attribute("#speak", "aria-pressed") == "true"
        until(page, lambda pg: number(pg, "#reps") >= 3, 30)
        page.wait_for_timeout(300)
        spoken = page.evaluate("window.__spoken")
        assert [w for w, _ in spoken][:3] == ["1", "2", "3"] and all(local for _, local in spoken), spoken
        page.reload()
        page.wait_for_selector("#conn.up", state="attached", timeout=30_000)
        assert page.get_attribute("#speak", "aria-pressed") == "true", "the page remembers the choice"
    context.close()
    remote_only = browser.new_context()
    remote_only.add_init_script(SPEECH_SPY % REMOTE)
    page = remote_only.new_page()
    (tmp_path / "again").mkdir()
    with Daemon(tmp_path / "again", live_clips / "stand.mp4", port):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#conn.up", timeout=30_000)
        assert page.is_disabled("#speak") and "no local voice" in page.text_content("#speak")
    remote_only.close()


def test_a_wrong_set_is_deleted_from_the_page_and_todays_count_follows(tmp_path, live_clips, page) -> None:
    import datetime

    from homegym.daemon.delivery.state import StateStore

    today = datetime.date.today().isoformat()
    store = StateStore(tmp_path / "state" / "state.sqlite3").open()
    for total, reps in ((7, 7), (19, 12)):
        store.save(today, {"pushup": total}, {"exercise": "pushup", "reps": reps, "duration_s": 20.0, "ended": 1e9 + total})
    store.close()
    port = free_port()
    with Daemon(tmp_path, live_clips / "long.mp4", port):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#conn.up", timeout=30_000)
        until(page, lambda pg: number(pg, "#total") == 19)
        page.on("dialog", lambda d: d.accept())
        page.click("#sets li:first-child button.delete")  # the newest: 12 push-ups
        until(page, lambda pg: number(pg, "#total") == 7, 10)
        until(page, lambda pg: pg.locator("#sets li").count() == 1, 10)  # the list comes with the next snapshot
        assert page.text_content("#sets li").startswith("7 push-ups")


def test_the_history_view_draws_the_weeks_the_last_sets_and_the_bests(tmp_path, live_clips, page) -> None:
    import datetime

    from homegym.daemon.delivery.state import StateStore

    today = datetime.date.today()
    store = StateStore(tmp_path / "state" / "state.sqlite3").open()
    for ago, ex, reps in [(20, "pushup", 25), (20, "squat", 30), (13, "pushup", 30), (12, "squat", 40), (11, "lunge", 16),
                          (6, "pushup", 35), (5, "curl", 24), (1, "squat", 45), (0, "pushup", 20), (0, "jumping_jack", 40)]:
        when = (today - datetime.timedelta(days=ago)).isoformat()
        ended = datetime.datetime.fromisoformat(when + "T07:30").timestamp()
        measures = {"full_reps": reps - 2, "avg_to_turn_s": 0.82, "avg_hold_s": 0.14, "avg_back_s": 0.71, "avg_turn_deg": 74.0,
                    "avg_travel_deg": 98.6}
        store.save(when, {**store.totals(when), ex: store.totals(when).get(ex, 0) + reps},
                   {"exercise": ex, "reps": reps, "duration_s": 2.0 * reps, "ended": ended, "measures": measures})
    store.close()
    port = free_port()
    with Daemon(tmp_path, live_clips / "stand.mp4", port):
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("#conn.up", timeout=30_000)
        until(page, lambda pg: pg.locator("#weeks rect").count() >= 8)
        assert page.text_content("#this-week").startswith("This week: ")
        assert "push-ups 35" in page.text_content("#bests") and "Jumping jacks" in page.text_content("#legend")
        newest = page.text_content("#history-card #sets li:first-child") or ""
        assert "tempo 0.8 / 0.1 / 0.7 s · range 99° · 38 of 40 full" in newest, newest  # the last sets, with tempo and range
        labels = page.locator("#weeks text").all_text_contents()
        assert len([t for t in labels if not t.isdigit()]) == 8, labels  # a label under each of the eight weeks
        page.locator("#history-card").scroll_into_view_if_needed()
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.locator("#history-card").screenshot(path=str(Path(SHOTS) / "live-history.png"))
