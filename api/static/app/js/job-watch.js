// @ts-check
// Follows one job live: its events (each finished chunk) as they happen, and the job itself
// (status, eta) re-read at most once a second. If the event stream cannot be read, falls back
// to polling the job every POLL_MS.

import { api } from "./api.js";
import { readEvents } from "./events.js";
import { isActive } from "./format.js";

/** @import { Job } from "./types.js" */

const POLL_MS = 2000;
const REFRESH_MIN_MS = 1000;
const END_EVENTS = new Set(["finished", "failed", "cancelled", "deleted"]);

/**
 * @typedef {object} WatchHandlers
 * @property {(job: Job, doneChunks: Set<number>) => void} onUpdate with the latest job and the
 *   indexes of its finished chunks
 * @property {() => void} [onGone] when the job is deleted
 */

/**
 * Follows `job` until it ends or stop() is called
 * @param {Job} job
 * @param {WatchHandlers} handlers
 * @returns {() => void} stop()
 */
export function watchJob(job, { onUpdate, onGone }) {
  const controller = new AbortController();
  /** @type {Set<number>} */
  const doneChunks = new Set();
  let current = job;
  let stopped = false;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let refreshTimer = null;
  let lastRefresh = 0;

  const emit = () => !stopped && onUpdate(current, doneChunks);

  async function refresh() {
    refreshTimer = null;
    lastRefresh = Date.now();
    try {
      current = await api.job(current.id);
      emit();
    } catch (error) {
      if (error.status === 404 && !stopped) onGone?.();
    }
  }

  // Status and eta change with every chunk; reading the job on each would be one request per
  // chunk, so the reads are spaced out
  function scheduleRefresh() {
    if (refreshTimer || stopped) return;
    const wait = Math.max(0, REFRESH_MIN_MS - (Date.now() - lastRefresh));
    refreshTimer = setTimeout(refresh, wait);
  }

  /** @param {{event: string, data: string}} message */
  function onEvent({ event, data }) {
    /** @type {Record<string, any>} */
    let payload = {};
    try {
      payload = JSON.parse(data);
    } catch {
      return;
    }
    if (event === "chunk") {
      doneChunks.add(payload.chunk);
      current = {
        ...current,
        status: current.status === "queued" ? "running" : current.status,
        progress: { ...current.progress, ...pick(payload, ["chunks_done", "chunks_total", "chars_done", "chars_total", "percent"]) },
      };
      emit();
      scheduleRefresh();
    } else if (event === "deleted") {
      stopped = true;
      onGone?.();
    } else if (END_EVENTS.has(event)) {
      refresh();
    }
  }

  async function follow() {
    let lastEventId;
    let retryMs = 2000;
    let failures = 0;
    while (!stopped && isActive(current.status)) {
      try {
        lastEventId = await readEvents(current.links.events, {
          lastEventId,
          signal: controller.signal,
          onEvent,
          onRetry: (ms) => { retryMs = ms; },
        });
        failures = 0;
        await refresh(); // the stream ended: the job has, or the connection was cut
      } catch (error) {
        if (stopped || error.name === "AbortError") return;
        if (error.status === 404) return onGone?.();
        failures += 1;
        if (failures >= 3) return poll(); // events do not get through here: poll instead
      }
      if (isActive(current.status)) await sleep(retryMs);
    }
  }

  async function poll() {
    while (!stopped && isActive(current.status)) {
      await refresh();
      await sleep(POLL_MS);
    }
  }

  if (isActive(job.status)) follow();
  return () => {
    stopped = true;
    if (refreshTimer) clearTimeout(refreshTimer);
    controller.abort();
  };
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @param {Record<string, unknown>} object
 * @param {string[]} keys
 */
function pick(object, keys) {
  return Object.fromEntries(keys.filter((key) => key in object).map((key) => [key, object[key]]));
}
