// The app's service worker. <audio> elements and download links cannot send headers, so on a
// server with API keys their /v1 requests would be refused; the app marks those requests
// (KEY_MARKER in the query) and this worker sends them on with the tab's key. Nothing else
// passes through it, and it keeps the keys in memory only.

const KEY_MARKER = "kq_key";
const ASK_TIMEOUT_MS = 2000;
const keys = new Map(); // client id -> the key that tab signed in with
let lastKey = "";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("message", (event) => {
  if (event.data?.type !== "api-key" || !event.source) return;
  if (event.data.key) keys.set(event.source.id, event.data.key);
  else keys.delete(event.source.id);
  lastKey = event.data.key || "";
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.searchParams.has(KEY_MARKER)) return;
  url.searchParams.delete(KEY_MARKER);
  event.respondWith(sendWithKey(event, url));
});

async function sendWithKey(event, url) {
  const key = await keyFor(event.clientId || event.resultingClientId);
  const headers = new Headers();
  // Range is what lets the player seek and resume; keep what the element asked for
  for (const name of ["Range", "Accept", "If-Range"]) {
    const value = event.request.headers.get(name);
    if (value) headers.set(name, value);
  }
  if (key) headers.set("Authorization", `Bearer ${key}`);
  return fetch(url, { headers, mode: "same-origin", credentials: "same-origin", cache: "no-store" });
}

// The worker may have been stopped and restarted since the tab told it its key: then ask the tab
async function keyFor(clientId) {
  if (clientId && keys.has(clientId)) return keys.get(clientId);
  const client = clientId ? await self.clients.get(clientId) : null;
  const candidates = client ? [client] : await self.clients.matchAll({ type: "window" });
  for (const candidate of candidates) {
    const key = await ask(candidate);
    if (key) {
      keys.set(candidate.id, key);
      return key;
    }
  }
  return lastKey;
}

function ask(client) {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(""), ASK_TIMEOUT_MS);
    channel.port1.onmessage = (message) => {
      clearTimeout(timer);
      resolve(message.data?.key || "");
    };
    client.postMessage({ type: "which-key" }, [channel.port2]);
  });
}
