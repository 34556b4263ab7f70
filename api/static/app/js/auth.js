// @ts-check
// The API key of this tab, for the app and the throughput dashboard alike (one entry, so one
// sign-in serves both). Kept in sessionStorage, so it lasts while the tab is open and is never
// written to disk by the app.

const KEY_STORAGE = "kokoro-queue-api-key";
/** @type {Set<(key: string) => void>} */
const listeners = new Set();

export function apiKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return ""; // storage disabled: the app still works without keys
  }
}

/** @param {string} key */
export function setApiKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
  listeners.forEach((listener) => listener(key));
}

export function clearApiKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  listeners.forEach((listener) => listener(""));
}

/** @param {(key: string) => void} listener called with the new key ("" when signed out) */
export function onKeyChange(listener) {
  listeners.add(listener);
}

/** @returns {Record<string, string>} */
export function authHeaders() {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

// A short, non-reversible label of the key (FNV-1a), so that what this browser remembers per
// client (its batches) is kept apart per key without storing the key itself
export function keyScope() {
  const key = apiKey();
  if (!key) return "anonymous";
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16);
}
