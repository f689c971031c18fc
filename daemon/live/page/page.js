// The live page: state from server-sent events, the picture as MJPEG; both come back by themselves after the
// daemon restarts. No framework, nothing from the internet.
"use strict";

const token = new URLSearchParams(location.search).get("token");
const q = token ? "?token=" + encodeURIComponent(token) : "";
const display = location.pathname.endsWith("/display");
const $ = (id) => document.getElementById(id);

function text(id, value) { $(id).textContent = value; }

let last = {};
let names = {};  // each exercise's name in words, as the daemon gives them
const named = (ex) => names[ex] || ex;

function setConnected(up) {
  const c = $("conn");
  const was = c.classList.contains("up");
  c.textContent = up ? "live" : "reconnecting…";
  c.className = "conn " + (up ? "up" : "down");
  document.body.classList.toggle("stale", !up);
  if (was && !up) render(Object.assign({}, last, { health: { source: "daemon not answering" } }));
}

function plural(n, one, many) { return n === 1 ? one : many; }

function fmt(v, unit) { return v === null || v === undefined ? "–" : v + (unit || ""); }

function render(s) {
  last = s;
  names = s.names || names;
  const st = s.state || {};
  const reps = st.reps_in_set || 0;
  text("exercise", st.exercise ? named(st.exercise) : "Ready");
  text("reps", reps);
  text("reps-unit", plural(reps, " rep in this set", " reps in this set"));
  text("phase", "phase " + (st.phase || "–") + (st.set ? " · set " + st.set : ""));
  announce(st, s.sets || []);
  text("total", st.total_today || 0);
  text("total-unit", plural(st.total_today || 0, "rep", "reps"));
  const per = Object.entries(st.today || {}).filter(([, n]) => n > 0).map(([ex, n]) => named(ex).toLowerCase() + " " + n);
  text("today", per.length ? "(" + per.join(", ") + ")" : "");

  const sets = $("sets");
  sets.replaceChildren(...(s.sets || []).map((x) => {
    const li = document.createElement("li");
    const at = new Date(x.ended * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    li.textContent = x.reps + " " + named(x.exercise).toLowerCase() + " in " + Math.round(x.duration_s) +
      " s, at " + at + (x.partials ? " (" + x.partials + " partial)" : "");
    const how = formOf(x.measures, x.reps);
    if (how) {
      const m = document.createElement("span");
      m.className = "form";
      m.textContent = how;
      m.title = "tempo: seconds to the turn / held there / back, averaged over the set; range: the joint's travel";
      li.append(" ", m);
    }
    if (x.id !== null && x.id !== undefined) li.append(" ", deleteButton(x));
    return li;
  }));
  $("no-sets").hidden = (s.sets || []).length > 0;

  const pl = $("placement");
  pl.replaceChildren(...(s.placement || []).map((h) => {
    const li = document.createElement("li");
    li.textContent = h.text;
    li.dataset.code = h.code;
    if (h.ok) li.className = "ok";
    return li;
  }));

  renderHistory(s.history);

  const h = s.health || {};
  const rows = [
    ["Source", h.source, h.source !== undefined && h.source !== "connected" && h.source !== "ended"],
    ["Frames a second", fmt(h.fps)],
    ["Inference", fmt(h.infer_ms, " ms a frame")],
    ["Pose stage", fmt(h.pose_ms, " ms a frame")],
    ["MQTT", h.mqtt, h.mqtt === "disconnected"],
    ["Outbox", h.outbox === null || h.outbox === undefined ? "–" : h.outbox + " waiting", h.outbox > 0],
    ["Disk", h.unwritten ? h.unwritten + " events not yet on disk" : "ok", h.unwritten > 0],
  ];
  $("health").replaceChildren(...rows.flatMap(([k, v, bad]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v === undefined ? "–" : v;
    if (bad) dd.className = "bad";
    return [dt, dd];
  }));
}

// The history view: the last weeks as stacked bars, one colour an exercise, drawn in the page (inline SVG, nothing
// loaded); this week's reps; the personal bests.
const COLOURS = ["#5cc47a", "#4aa3df", "#f2b84b", "#ef6b5b", "#b48ead", "#88c0d0", "#d08770", "#a3be8c"];
const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function renderHistory(hist) {
  if (!hist) return;
  const weeks = hist.weeks || [];
  const all = [...new Set(weeks.flatMap((w) => Object.keys(w.by_exercise)))].sort();
  const colour = (ex) => COLOURS[all.indexOf(ex) % COLOURS.length];
  const sums = weeks.map((w) => Object.values(w.by_exercise).reduce((a, b) => a + b, 0));
  const top = Math.max(1, ...sums);
  const chart = $("weeks");
  const bars = [];
  const step = 300 / Math.max(1, weeks.length), width = step * 0.7, base = 130;
  weeks.forEach((w, i) => {
    let y = base;
    const x = 16 + i * step;
    for (const ex of all) {
      const n = w.by_exercise[ex] || 0;
      if (!n) continue;
      const hgt = (n / top) * 110;
      y -= hgt;
      const bar = svg("rect", { x: x, y: y, width: width, height: hgt, fill: colour(ex) });
      bar.append(svg("title", {}, named(ex) + ": " + n));
      bars.push(bar);
    }
    if (sums[i]) bars.push(svg("text", { x: x + width / 2, y: y - 3, "text-anchor": "middle" }, String(sums[i])));
    const d = new Date(w.week + "T12:00");
    bars.push(svg("text", { x: x + width / 2, y: base + 12, "text-anchor": "middle" },
      d.toLocaleDateString([], { month: "short", day: "numeric" })));
  });
  chart.replaceChildren(svg("line", { x1: 10, y1: base, x2: 316, y2: base, stroke: "#555" }), ...bars);
  $("legend").replaceChildren(...all.map((ex) => {
    const li = document.createElement("li");
    li.textContent = named(ex);
    li.style.setProperty("--swatch", colour(ex));
    return li;
  }));
  const week = Object.entries(hist.this_week || {}).filter(([, n]) => n > 0);
  const total = week.reduce((a, [, n]) => a + n, 0);
  text("this-week", total ? "This week: " + total + " " + plural(total, "rep", "reps") + " (" +
    week.map(([ex, n]) => named(ex).toLowerCase() + " " + n).join(", ") + ")" : "No reps this week yet.");
  const b = hist.bests || {};
  const list = (m) => Object.entries(m || {}).map(([ex, v]) => named(ex).toLowerCase() + " " + v.reps + " (" + v.day + ")").join("; ");
  const rows = [["Best set", list(b.set)], ["Best day", list(b.day)],
    ["Longest streak", b.streak_days ? b.streak_days + " " + plural(b.streak_days, "day", "days") + " in a row" : ""]];
  $("bests").replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    return [dt, dd];
  }));
}

// A set's tempo and range of motion (the averages of its reps, where they were measured), in a few words.
function formOf(m, reps) {
  if (!m) return "";
  const s = (v) => (v === null || v === undefined ? "–" : v.toFixed(1));
  const parts = [];
  if (m.avg_to_turn_s !== undefined) parts.push("tempo " + s(m.avg_to_turn_s) + " / " + s(m.avg_hold_s) + " / " + s(m.avg_back_s) + " s");
  if (m.avg_travel_deg !== undefined) parts.push("range " + Math.round(m.avg_travel_deg) + "°");
  if (m.full_reps !== null && m.full_reps !== undefined) parts.push(m.full_reps + " of " + reps + " full");
  return parts.join(" · ");
}

// A wrong set (a false one, someone else's) is deleted from the history; the day's totals follow, and the state
// event that follows shows them.
function deleteButton(x) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "delete";
  b.textContent = "Delete";
  b.title = "Delete this set from the history; its reps leave that day's totals";
  b.addEventListener("click", async () => {
    if (!confirm("Delete the set of " + x.reps + " " + named(x.exercise).toLowerCase() + "?")) return;
    b.disabled = true;
    const r = await fetch("api/sets/" + x.id + "/delete" + q, { method: "POST" });
    if (!r.ok) { b.disabled = false; b.textContent = "Not deleted"; }
  });
  return b;
}

// The spoken count: each rep's number, and the set's reps when it ends, in one of the browser's own voices. Off
// until turned on (the choice is remembered); local voices only (localService), so no word leaves the box's network.
const speech = window.speechSynthesis;
let speaking = localStorage.getItem("homegym.speak") === "on";
let heard = null;  // what was last announced: the set, its reps, the last finished set's end

function localVoice() {
  return speech ? speech.getVoices().find((v) => v.localService) : undefined;
}

function say(words) {
  const voice = localVoice();
  if (!speaking || !voice) return;
  const u = new SpeechSynthesisUtterance(words);
  u.voice = voice;
  speech.speak(u);
}

function updateToggle() {
  const b = $("speak");
  const voice = localVoice();
  b.disabled = !voice;
  b.textContent = !voice ? "Count aloud: this browser has no local voice" : "Count aloud: " + (speaking ? "on" : "off");
  b.setAttribute("aria-pressed", String(speaking && !!voice));
}

$("speak").addEventListener("click", () => {
  speaking = !speaking;
  localStorage.setItem("homegym.speak", speaking ? "on" : "off");
  updateToggle();
});
if (speech) speech.addEventListener("voiceschanged", updateToggle);  // voices load after the page in some browsers
updateToggle();

function announce(st, sets) {
  const now = { set: st.set || null, reps: st.reps_in_set || 0, ended: sets.length ? sets[0].ended : null };
  if (heard !== null) {  // the first state only sets where things stand: nothing said for what happened before
    if (now.reps > 0 && (now.set !== heard.set || now.reps > heard.reps)) say(String(now.reps));
    if (now.ended !== null && now.ended !== heard.ended) say(sets[0].reps + " " + named(sets[0].exercise).toLowerCase());
  }
  heard = now;
  restSince = now.set === null && now.ended !== null ? now.ended : null;
  showRest();
}

// A rest timer between sets: from the last set's end until the next set's first rep (a rest, not the hours since
// yesterday's last set: gone after REST_S).
const REST_S = 15 * 60;
let restSince = null;
function showRest() {
  const r = $("rest");
  const s = restSince === null ? null : Math.max(0, Math.floor(Date.now() / 1000 - restSince));
  r.hidden = s === null || s > REST_S;
  if (r.hidden) return;
  r.textContent = "Rest " + Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}
setInterval(showRest, 1000);

// The picture: an MJPEG stream, opened only while the page is visible (nothing is encoded for a hidden tab).
let pictureRetry = null;
function openPicture() {
  clearTimeout(pictureRetry);
  const img = $("picture");
  if (display || document.hidden) { img.removeAttribute("src"); return; }
  img.src = "video.mjpg" + q + (q ? "&" : "?") + "n=" + Date.now();
}
$("picture").addEventListener("load", () => { $("no-picture").hidden = true; });
$("picture").addEventListener("error", () => { pictureRetry = setTimeout(openPicture, 2000); });
document.addEventListener("visibilitychange", openPicture);

// The state: EventSource retries by itself after a dropped connection; where the browser gave up, start again.
let source = null;
function connect() {
  source = new EventSource("events" + q);
  source.addEventListener("state", (e) => { setConnected(true); render(JSON.parse(e.data)); });
  source.addEventListener("open", () => { setConnected(true); openPicture(); });
  source.addEventListener("error", () => {
    setConnected(false);
    if (source.readyState === EventSource.CLOSED) { setTimeout(connect, 2000); }
  });
}

if (display) document.body.classList.add("display");
$("display-link").href = "display" + q;
connect();
openPicture();
