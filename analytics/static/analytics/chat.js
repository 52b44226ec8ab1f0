// The chat page, on the WebSocket protocol of docs/api.md only: join_room (with `since` after a
// reconnect), chat, history, join/leave, notifications. Messages are kept by id: duplicates are dropped.
import {LiveSocket, Session, clock, debounce, el, readJSON} from "./common.js";

const session = new Session(readJSON("ws-token"));
const state = {me: null, current: null, rooms: new Map(), known: []};
const ROOM_NAME = /^[A-Za-z0-9._-]{1,100}$/;

function room(name) {
  let entry = state.rooms.get(name);
  if (!entry) {
    entry = {name, messages: new Map(), lastId: null, present: new Map(), unread: 0, joined: false, members: 0};
    state.rooms.set(name, entry);
  }
  return entry;
}

// --- socket ------------------------------------------------------------------------------------

const live = new LiveSocket("/ws/connect", session, {onEvent, onStatus, onOpen});

function onOpen() {
  // After a reconnect, each room is joined again from the last message seen: history brings exactly the gap.
  for (const entry of state.rooms.values()) {
    if (entry.joined) join(entry.name);
  }
}

function join(name) {
  const entry = room(name);
  const frame = {type: "join_room", room: name};
  if (entry.lastId !== null) frame.since = entry.lastId;
  entry.joined = true;
  entry.present.clear();  // rebuilt from the join events that follow
  return live.send(frame);
}

function onStatus(status, wait) {
  const node = document.getElementById("live-status");
  node.textContent = {open: "connected", connecting: "connecting…", "signed-out": "signed out — reload the page"}[status]
    || `offline — reconnecting in ${Math.max(1, Math.round(wait / 1000))} s`;
  node.className = `live ${status === "open" ? "on" : "off"}`;
  const ready = status === "open" && state.current !== null;
  document.getElementById("message").disabled = !ready;
  document.getElementById("send").disabled = !ready;
}

function onEvent(event) {
  const handlers = {connection: onConnection, join_room: onJoin, leave_room: onLeave, history: onHistory,
                    chat: onChat, notification: onNotification, error: onError};
  (handlers[event.type] || (() => {}))(event);
}

function onConnection(event) {
  state.me = event.user;
}

function onJoin(event) {
  const entry = room(event.room);
  entry.present.set(event.user.id, event.user.username);
  if (event.user.id === state.me?.id && state.current === null) select(event.room);
  if (event.room === state.current) renderPresent();
  refreshRooms();
}

function onLeave(event) {
  const entry = state.rooms.get(event.room);
  if (!entry) return;  // a room this page left
  entry.present.delete(event.user.id);
  if (event.room === state.current) renderPresent();
  refreshRooms();
}

function onHistory(event) {
  const entry = room(event.room);
  if (!event.recovered && entry.lastId !== null) {
    systemLine(entry, "Some messages sent while you were away are no longer kept.");
  }
  for (const message of event.messages) keep(entry, message, false);
  if (event.room === state.current) renderMessages();
}

function onChat(event) {
  const entry = room(event.room);
  const added = keep(entry, event, event.room !== state.current);
  entry.present.set(event.user.id, event.user.username);  // only members can speak
  if (added && event.room === state.current) renderMessages();
  if (event.room !== state.current) renderRooms();
}

function keep(entry, message, countUnread) {
  if (entry.messages.has(message.id)) return false;  // seen live and in history: once
  entry.messages.set(message.id, message);
  if (entry.lastId === null || message.id > entry.lastId) entry.lastId = message.id;
  if (countUnread && message.user.id !== state.me?.id) entry.unread += 1;
  return true;
}

function systemLine(entry, text) {
  const id = `system-${Date.now()}-${Math.random()}`;
  entry.messages.set(id, {id, system: true, message: text, timestamp: new Date().toISOString()});
}

function onNotification(event) {
  const list = document.getElementById("notifications");
  const title = event.broadcast ? `${event.title || "Announcement"} (to everyone)` : event.title;
  list.prepend(el("li", {class: event.level},
    el("span", {}, el("time", {datetime: event.timestamp}, clock(event.timestamp)), " ", el("strong", {}, title)),
    el("span", {}, event.message)));
  while (list.children.length > 50) list.lastChild.remove();
}

function onError(event) {
  const entry = event.room ? state.rooms.get(event.room) : null;
  if (entry && (event.code === "forbidden" || event.code === "invalid_room")) {
    entry.joined = false;
    state.rooms.delete(event.room);
    if (state.current === event.room) state.current = null;
    renderAll();
  }
  notice(event.message);
}

function notice(text) {
  const entry = state.current ? state.rooms.get(state.current) : null;
  if (entry) { systemLine(entry, text); renderMessages(); } else document.getElementById("present").textContent = text;
}

// --- rendering ---------------------------------------------------------------------------------

function select(name) {
  state.current = name;
  room(name).unread = 0;
  if (location.hash !== `#${name}`) history.replaceState(null, "", `#${name}`);
  renderAll();
  onStatus(live.open ? "open" : "connecting");
}

function renderAll() {
  renderRooms();
  renderMessages();
  renderPresent();
  document.getElementById("room-title").textContent = state.current ? `# ${state.current}` : "No room yet";
  document.getElementById("leave").hidden = !state.current;
}

function renderRooms() {
  const names = new Map(state.known.map((r) => [r.name, r.members]));
  for (const [name, entry] of state.rooms) if (entry.joined && !names.has(name)) names.set(name, entry.present.size);
  const list = document.getElementById("room-list");
  list.replaceChildren(...[...names].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name, members]) => {
    const entry = state.rooms.get(name);
    const button = el("button", {type: "button", "aria-current": String(name === state.current), "data-room": name},
      el("span", {}, `# ${name}`),
      entry?.unread ? el("span", {class: "unread", "aria-label": `${entry.unread} unread`}, entry.unread)
        : el("span", {class: "count"}, `${members} here`));
    button.addEventListener("click", () => open(name));
    return el("li", {}, button);
  }));
  if (!names.size) list.replaceChildren(el("li", {class: "muted small"}, "No active rooms yet: start one above."));
}

function renderPresent() {
  const node = document.getElementById("present");
  if (!state.current) { node.textContent = "Join a room to start chatting."; return; }
  const entry = room(state.current);
  const names = [...entry.present.entries()].map(([id, name]) => (id === state.me?.id ? `${name} (you)` : name));
  const counted = state.known.find((r) => r.name === state.current)?.members || 0;
  const others = Math.max(0, counted - entry.present.size);
  node.textContent = names.length
    ? `Here: ${names.sort().join(", ")}${others ? ` and ${others} more` : ""}`
    : "Joining…";
}

function renderMessages() {
  const list = document.getElementById("messages");
  if (!state.current) { list.replaceChildren(); return; }
  const entry = room(state.current);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  // By time (system lines among them); chat ids break ties, as they follow the order of storage.
  const messages = [...entry.messages.values()].sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp)
    || (a.system || b.system ? 0 : a.id - b.id));
  list.replaceChildren(...messages.map((m) => (m.system
    ? el("li", {class: "system"}, m.message)
    : el("li", {class: m.user.id === state.me?.id ? "mine" : "", "data-id": m.id},
        el("div", {class: "meta"}, el("strong", {}, m.user.username),
           el("time", {datetime: m.timestamp}, clock(m.timestamp))),
        el("div", {class: "body"}, m.message)))));
  if (!messages.length) list.replaceChildren(el("li", {class: "system"}, "No messages yet. Say hello!"));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// --- actions -----------------------------------------------------------------------------------

function open(name) {
  const entry = room(name);
  if (!entry.joined) join(name);
  select(name);
}

function leave() {
  const name = state.current;
  if (!name) return;
  live.send({type: "leave_room", room: name});
  state.rooms.delete(name);  // not joined again after a reconnect
  state.current = [...state.rooms.values()].find((entry) => entry.joined)?.name ?? null;
  if (!state.current) history.replaceState(null, "", location.pathname);
  renderAll();
  onStatus(live.open ? "open" : "connecting");
  refreshRooms();
}

async function loadRooms() {
  try { state.known = await session.json("/ws/rooms"); } catch (_) { return; }
  renderRooms();
  renderPresent();
}

const refreshRooms = debounce(loadRooms, 1000);

function setupForms() {
  document.getElementById("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = document.getElementById("room-name");
    const name = input.value.trim();
    if (!ROOM_NAME.test(name)) { input.setCustomValidity("Letters, digits, dot, dash and underscore"); input.reportValidity(); return; }
    input.setCustomValidity("");
    input.value = "";
    open(name);
    document.getElementById("message").focus();
  });
  document.getElementById("leave").addEventListener("click", leave);
  const text = document.getElementById("message");
  const send = () => {
    const message = text.value.trim();
    if (!message || !state.current) return;
    if (live.send({type: "chat", room: state.current, message})) text.value = "";
  };
  document.getElementById("send-form").addEventListener("submit", (event) => { event.preventDefault(); send(); });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
  });
}

async function loadNotifications() {
  try {
    const page = await session.json("/api/notifications/");
    for (const n of [...(page.results || [])].slice(0, 10).reverse()) {
      onNotification({...n, timestamp: n.created_at, broadcast: false});
    }
  } catch (_) { /* the live ones still arrive */ }
}

function start() {
  setupForms();
  renderAll();
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (ROOM_NAME.test(wanted)) {
    const entry = room(wanted);
    entry.joined = true;  // joined as soon as the socket opens
    select(wanted);
  }
  live.connect();
  loadRooms();
  loadNotifications();
  setInterval(loadRooms, 20000);
  setInterval(() => live.send({type: "ping"}), 25000);
}

start();
