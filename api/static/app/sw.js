// @ts-check
// The app's service worker. <audio> elements and download links cannot send headers, so on a
// server with API keys their /v1 requests would be refused; the app marks those requests
// (KEY_MARKER in the query) and this worker sends them on with the tab's key. Nothing else
// passes through it, and it keeps the keys in memory only.

// The global scope here is a service worker's, not a page's (tsconfig.sw.json checks it so)
const worker = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const KEY_MARKER = "kq_key";
const ASK_TIMEOUT_MS = 2000;
/** @type {Map<string, string>} client id -> the key that tab signed in with */
const keys = new Map();
let lastKey = "";

worker.addEventListener("install", () => worker.skipWaiting());
worker.addEventListener("activate", (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener("message", (event) => {
  if (event.data?.type !== "api-key" || !event.source) return;
  const tab = /** @type {Client} */ (event.source);
  if (event.data.key) keys.set(tab.id, event.data.key);
  else keys.delete(tab.id);
  lastKey = event.data.key || "";
});

worker.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== worker.location.origin || !url.searchParams.has(KEY_MARKER)) return;
  url.searchParams.delete(KEY_MARKER);
  event.respondWith(sendWithKey(event, url));
});

/**
 * @param {FetchEvent} event
 * @param {URL} url the request's, without the marker
 */
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

/**
 * The key of a tab. The worker may have been stopped and restarted since the tab told it its
 * key: then it asks the tab
 * @param {string} clientId
 * @returns {Promise<string>}
 */
async function keyFor(clientId) {
  const known = clientId ? keys.get(clientId) : undefined;
  if (known) return known;
  const client = clientId ? await worker.clients.get(clientId) : null;
  const candidates = client ? [client] : await worker.clients.matchAll({ type: "window" });
  for (const candidate of candidates) {
    const key = await ask(candidate);
    if (key) {
      keys.set(candidate.id, key);
      return key;
    }
  }
  return lastKey;
}

/**
 * @param {Client} client
 * @returns {Promise<string>}
 */
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
