// Shared by the pages: the API with the page's access token, a self-healing WebSocket, formatting.

export function readJSON(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

// The page embeds a short-lived access token; a fresh one comes from the session (/accounts/token/).
export class Session {
  constructor(token) { this.token = token; }

  async refresh() {
    const response = await fetch("/accounts/token/", {
      credentials: "same-origin", redirect: "manual", headers: {Accept: "application/json"}});
    if (!response.ok) throw new Error("signed out");
    this.token = (await response.json()).access;
    return this.token;
  }

  async api(path, {method = "GET", body} = {}) {
    for (let attempt = 0; ; attempt++) {
      const headers = {Authorization: `Bearer ${this.token}`, Accept: "application/json"};
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const response = await fetch(path, {method, headers, credentials: "omit",
                                          body: body === undefined ? undefined : JSON.stringify(body)});
      if (response.status === 401 && attempt === 0) { await this.refresh(); continue; }
      return response;
    }
  }

  async json(path, options) {
    const response = await this.api(path, options);
    if (!response.ok) {
      let detail = `${response.status}`;
      try { detail = (await response.json()).detail || detail; } catch (_) { /* not JSON */ }
      const error = new Error(detail); error.status = response.status; throw error;
    }
    return response.json();
  }
}

// A WebSocket that reconnects with exponential backoff (and jitter) and renews an expired token.
export class LiveSocket {
  constructor(path, session, {onEvent, onStatus, onOpen} = {}) {
    this.path = path; this.session = session;
    this.onEvent = onEvent || (() => {}); this.onStatus = onStatus || (() => {}); this.onOpen = onOpen || (() => {});
    this.delay = 500; this.stopped = false; this.ws = null; this.timer = null;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    return `${scheme}://${location.host}${this.path}`;
  }

  connect() {
    if (this.stopped) return;
    this.onStatus("connecting");
    // The token travels as a subprotocol: it stays out of URLs and logs.
    const ws = new WebSocket(this.url(), ["access_token", this.session.token]);
    this.ws = ws;
    ws.onopen = () => { this.delay = 500; this.onStatus("open"); this.onOpen(); };
    ws.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      this.onEvent(event);
    };
    ws.onclose = (close) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (close.code === 4403) { this.onStatus("forbidden"); return; }
      this.schedule(close.code === 4401);
    };
  }

  async schedule(renewToken) {
    const wait = this.delay * (0.75 + Math.random() / 2);
    this.delay = Math.min(this.delay * 2, 15000);
    this.onStatus("retrying", wait);
    clearTimeout(this.timer);
    this.timer = setTimeout(async () => {
      if (renewToken) {
        try { await this.session.refresh(); } catch (_) { this.onStatus("signed-out"); return; }
      }
      this.connect();
    }, wait);
  }

  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  get open() { return !!this.ws && this.ws.readyState === WebSocket.OPEN; }

  stop() { this.stopped = true; clearTimeout(this.timer); if (this.ws) this.ws.close(1000); }
}

// At most one call per `wait` ms, the last one of a burst (many joins or alert changes at once).
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), wait); };
}

// --- formatting ---------------------------------------------------------------------------

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function number(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  const n = Number(value);
  return n.toLocaleString(undefined, {maximumFractionDigits: Math.abs(n) >= 100 ? 0 : digits});
}

export function percent(value) { return value === null || value === undefined ? "–" : `${number(value)}%`; }

export function bytes(value) {
  if (value === null || value === undefined) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let n = Number(value), i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${number(n, i ? 1 : 0)} ${units[i]}`;
}

export function clock(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});
}

export function ago(iso) {
  if (!iso) return "–";
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} d ago`;
}
