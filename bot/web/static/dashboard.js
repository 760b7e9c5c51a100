// The dashboard's live parts: countdowns on the bot's clock, one-click decisions through the
// JSON API (with the session's CSRF token), and a fresh board whenever the server says so.
"use strict";

const csrf = document.querySelector('meta[name="csrf-token"]').content;
let skew = 0; // the bot's clock minus this browser's (the simulator moves the bot's clock)

function readSkew() {
  const board = document.querySelector(".board");
  if (board) skew = Date.parse(board.dataset.now) - Date.now();
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function tick() {
  const now = Date.now() + skew;
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Math.floor((Date.parse(el.dataset.cutoff) - now) / 1000);
    if (left <= 0) {
      el.textContent = "已到截单时间";
      el.classList.add("due");
    } else {
      const h = Math.floor(left / 3600);
      const m = Math.floor((left % 3600) / 60);
      el.textContent = `还剩 ${h}:${pad(m)}:${pad(left % 60)}`;
    }
  }
  const clock = document.getElementById("bot-now");
  if (clock) {
    clock.textContent = new Intl.DateTimeFormat("zh-CN", {
      timeZone: clock.dataset.tz,
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    }).format(new Date(now));
  }
}

async function refresh() {
  const date = document.querySelector(".board")?.dataset.date || "";
  const res = await fetch(`/dashboard/board?date=${encodeURIComponent(date)}`, {
    credentials: "same-origin",
  });
  if (res.status === 401) {
    window.location.href = "/login";
    return;
  }
  if (!res.ok) return;
  document.getElementById("board").innerHTML = await res.text();
  readSkew();
  tick();
  for (const chart of document.querySelectorAll("img.chart")) {
    chart.src = `${chart.dataset.src}&t=${Date.now()}`;
  }
}

let pending = null;
function soon() {
  // orders arrive in bursts: one refresh per burst
  clearTimeout(pending);
  pending = setTimeout(refresh, 250);
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.decide");
  if (!form) return;
  event.preventDefault();
  const line = form.querySelector('input[name="line"]');
  const res = await fetch(form.dataset.api, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(line ? { line: line.value } : {}),
  });
  const answer = await res.json().catch(() => ({}));
  await refresh();
  if (form.classList.contains("collect")) {
    const said = document.getElementById("collected");
    const done = `已记收款：${answer.name} ¥${answer.paid}`;
    if (said) said.textContent = res.ok ? done : `没有改动：${answer.error}`;
  } else {
    const said = document.getElementById("decided");
    if (said) said.textContent = res.ok ? `已计入：${answer.line}` : `没有改动：${answer.error}`;
  }
});

readSkew();
tick();
setInterval(tick, 1000);
const live = document.getElementById("live");
const events = new EventSource("/api/events");
events.addEventListener("change", soon);
events.onopen = () => live.classList.add("on");
events.onerror = () => live.classList.remove("on");
