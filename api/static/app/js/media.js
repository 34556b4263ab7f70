// @ts-check
// URLs for what the browser fetches by itself (players, download links). Without keys they are
// the API's own; with a key, media URLs carry a marker the service worker (sw.js) answers by
// adding the key, and downloads are fetched with the key and handed over as a blob. Where no
// service worker runs (a page served over plain http from another host) the player gets a blob
// too.

import { apiKey, authHeaders, onKeyChange } from "./auth.js";
import { announce } from "./dom.js";

const KEY_MARKER = "kq_key"; // the same name as in sw.js
let workerControls = false;

/** Registers sw.js; resolves with whether it controls this page (it may not, e.g. over http) */
export async function startKeyWorker() {
  if (!("serviceWorker" in navigator)) return false;
  try {
    await navigator.serviceWorker.register("/app-sw.js", { scope: "/" });
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await controllerOrTimeout(3000);
  } catch {
    return false;
  }
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "which-key") event.ports[0]?.postMessage({ key: apiKey() });
  });
  navigator.serviceWorker.addEventListener("controllerchange", tellWorker);
  onKeyChange(tellWorker);
  tellWorker();
  workerControls = Boolean(navigator.serviceWorker.controller);
  return workerControls;
}

/**
 * @param {number} ms
 * @returns {Promise<void>}
 */
function controllerOrTimeout(ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

function tellWorker() {
  navigator.serviceWorker.controller?.postMessage({ type: "api-key", key: apiKey() });
}

/**
 * The URL a player or link fetches `path` (a /v1 path) from
 * @param {string} path
 */
export function mediaUrl(path) {
  if (!apiKey() || !workerControls) return path;
  const url = new URL(path, location.origin);
  url.searchParams.set(KEY_MARKER, "1");
  return url.pathname + url.search;
}

// Whether a player can fetch /v1 media by itself (no key needed, or the worker adds it)
export const mediaNeedsFetch = () => Boolean(apiKey()) && !workerControls;

// A download link. With a key a click fetches the file with it and saves it from memory:
// Chromium does not send <a download> requests through the service worker, so a plain link
// would be refused
/**
 * @param {string} path
 * @param {string} filename what the file is saved as
 * @param {string} label the link's text
 * @param {Record<string, string>} [attrs]
 */
export function downloadLink(path, filename, label, attrs = {}) {
  const link = document.createElement("a");
  link.href = path;
  link.download = filename;
  link.textContent = label;
  for (const [name, value] of Object.entries(attrs)) link.setAttribute(name, value);
  link.addEventListener("click", async (event) => {
    if (!apiKey()) return;
    event.preventDefault();
    const response = await fetch(path, { headers: authHeaders() }).catch(() => null);
    if (!response?.ok) {
      announce(`The download failed${response ? ` (the server answered ${response.status})` : ""}.`);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const temporary = Object.assign(document.createElement("a"), { href: url, download: filename });
    temporary.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  return link;
}

/**
 * A source the <audio> element can play: the URL itself, or the file fetched with the key
 * @param {string} path
 */
export async function playableUrl(path) {
  if (!mediaNeedsFetch()) return mediaUrl(path);
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw new Error(`the audio answered ${response.status}`);
  return URL.createObjectURL(await response.blob());
}
