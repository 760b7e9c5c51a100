// The simulator's page: post what people type, show every chat's lines live, move the clock.
"use strict";

const seen = new Set();
let skew = 0; // the bot's clock minus this browser's
const clockEl = document.getElementById("sim-now");
// times are shown in the bot's zone, whatever this browser's zone is
const fmt = new Intl.DateTimeFormat("zh-CN", {
  timeZone: clockEl.dataset.tz,
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});

function chatOf(line) {
  const room = line.room || "";
  return document.querySelector(`.chat[data-room="${CSS.escape(room)}"] .log`);
}

function show(line) {
  if (seen.has(line.n)) return;
  seen.add(line.n);
  const log = chatOf(line);
  if (!log) return;
  const div = document.createElement("div");
  div.className = line.bot ? "msg bot" : "msg";
  const who = document.createElement("div");
  who.className = "who";
  // people by name, as the chat shows them; contact ids stay in the JSON
  let label = line.bot ? `🤖 ${line.sender_name}` : line.sender_name;
  if (line.bot && line.to) label += ` → ${line.to_name || line.to}`;
  if (line.bot && line.mention_names.length) label += ` @${line.mention_names.join(" @")}`;
  who.textContent = `${label} · ${fmt.format(new Date(Date.parse(line.ts)))}`;
  const text = document.createElement("div");
  text.className = "text";
  if (line.file) {
    const link = document.createElement("a");
    link.className = "file";
    link.href = line.file_url;
    link.textContent = `📎 ${line.file}`;
    if (!line.file.toLowerCase().endsWith(".png")) link.download = line.file;
    text.append(link, document.createElement("br"));
    if (line.file.toLowerCase().endsWith(".png")) {
      const img = document.createElement("img");
      img.src = line.file_url;
      img.alt = line.file;
      img.className = "sent-image";
      text.append(img, document.createElement("br"));
    }
    text.append(line.text);
  } else {
    text.textContent = line.text;
  }
  div.append(who, text);
  log.append(div);
  log.scrollTop = log.scrollHeight;
}

async function post(url, body) {
  const res = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error || res.statusText);
  for (const line of answer.replies) show(line);
  return answer;
}

async function loadLog() {
  const res = await fetch("/sim/api/log", { credentials: "same-origin" });
  const data = await res.json();
  skew = Date.parse(data.now) - Date.now();
  for (const line of data.lines) show(line);
}

function tickClock() {
  clockEl.textContent = fmt.format(new Date(Date.now() + skew));
}

async function moveTo(when) {
  const said = document.getElementById("clock-said");
  try {
    const answer = await post("/sim/api/clock", { ts: when });
    said.textContent = `已拨到，机器人发了 ${answer.replies.length} 条`;
  } catch (err) {
    said.textContent = err.message;
  }
  await loadLog();
}

document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form.compose");
  if (!form) return;
  event.preventDefault();
  const chat = form.closest(".chat");
  const text = form.elements.text.value;
  if (!text.trim()) return;
  const name = form.elements.sender_name.value.trim();
  // someone new needs no contact id typed: one is made from the name
  const sender = form.elements.sender.value.trim() || (name ? `wxid_sim_${name}` : "");
  if (!sender) {
    alert("请先填写发言人的名字");
    return;
  }
  form.elements.sender.value = sender;
  const body = { room: chat.dataset.room || null, sender, sender_name: name || sender, text };
  try {
    await post("/sim/api/messages", body);
    form.elements.text.value = "";
  } catch (err) {
    alert(err.message);
  }
});

document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.ctrlKey && event.target.name === "text") {
    event.target.form.requestSubmit();
  }
});

document.addEventListener("change", (event) => {
  // picking a known person by name fills in their contact id; a new name starts a new one
  if (event.target.name !== "sender_name") return;
  const option = [...document.querySelectorAll("#people option")].find(
    (o) => o.value === event.target.value.trim(),
  );
  event.target.form.elements.sender.value = option ? option.dataset.id : "";
});

document.getElementById("clock-go").addEventListener("click", () => {
  const value = document.getElementById("clock-to").value;
  if (value) moveTo(`${value}:00`);
});
for (const button of document.querySelectorAll(".clock-step")) {
  button.addEventListener("click", () => {
    const minutes = Number(button.dataset.minutes);
    moveTo(new Date(Date.now() + skew + minutes * 60000).toISOString());
  });
}

const events = new EventSource("/sim/api/events");
events.addEventListener("line", (event) => show(JSON.parse(event.data)));
events.onopen = loadLog; // after a reconnect, catch up on what was missed
setInterval(tickClock, 1000);
loadLog();
