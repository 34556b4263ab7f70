// @ts-check
// Server-Sent Events read with fetch rather than EventSource: EventSource cannot send the
// Authorization header that a server with keys needs.

import { authHeaders } from "./auth.js";

/** @typedef {{event?: string, data?: string, id?: string, retry?: number}} EventMessage */

/**
 * Calls onEvent({event, data, id}) for each event of GET path until the server ends the
 * stream; resolves with the last event id, rejects on an HTTP error or a broken connection.
 * @param {string} path
 * @param {object} options
 * @param {string} [options.lastEventId] where to resume
 * @param {AbortSignal} [options.signal]
 * @param {(message: EventMessage & {event: string, data: string}) => void} options.onEvent
 * @param {(ms: number) => void} [options.onRetry] the reconnection delay the server asks for
 * @returns {Promise<string | undefined>}
 */
export async function readEvents(path, { lastEventId, signal, onEvent, onRetry }) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "text/event-stream", ...authHeaders() };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await fetch(path, { headers, signal, cache: "no-store" });
  if (!response.ok || !response.body) {
    throw Object.assign(new Error(`events answered ${response.status}`), { status: response.status });
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let lastId = lastEventId;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return lastId;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseBlock(block);
      if (message.retry && onRetry) onRetry(message.retry);
      if (message.id) lastId = message.id;
      if (message.data !== undefined) onEvent({ ...message, data: message.data, event: message.event || "message" });
    }
  }
}

/**
 * One event's lines (the text between two blank lines) as its fields
 * @param {string} block
 * @returns {EventMessage}
 */
export function parseBlock(block) {
  /** @type {EventMessage} */
  const message = {};
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue; // a keep-alive comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") data.push(value);
    else if (field === "event") message.event = value;
    else if (field === "id") message.id = value;
    else if (field === "retry") message.retry = Number(value);
  }
  if (data.length) message.data = data.join("\n");
  return message;
}
