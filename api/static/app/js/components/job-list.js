// @ts-check
// The library's books: a row per job, kept between refreshes (moved only when out of order), a
// book's revisions together, and the first few active ones followed live.

import { announce, h } from "../dom.js";
import { isActive, jobTitle, STATUS_LABELS } from "../format.js";
import { watchJob } from "../job-watch.js";
import { groupRevisions } from "../revisions.js";
import { createJobRow } from "./job-row.js";

/** @import { Job } from "../types.js" */
/** @typedef {ReturnType<typeof createJobRow>} JobRow */

const MAX_FOLLOWED = 3; // live event streams at once: the browser allows 6 connections per host

/** @param {import("./job-row.js").RowActions} actions what the rows' buttons do */
export function createJobList(actions) {
  const element = h("ul", { class: "job-list", id: "job-list", "aria-labelledby": "jobs-heading" });
  /** @type {Map<string, JobRow>} job id -> its row */
  const rows = new Map();
  const live = createLiveRows(rows);

  /**
   * @param {Job[]} jobs the page's jobs, newest first
   * @param {{filtered: boolean}} view whether a status filter is on (for the empty list's words)
   */
  function draw(jobs, { filtered }) {
    const ids = new Set(jobs.map((job) => job.id));
    for (const id of [...rows.keys()]) if (!ids.has(id)) remove(id);
    groupRevisions(jobs).forEach(({ job, label, older }, index) => {
      let row = rows.get(job.id);
      if (!row) {
        row = createJobRow(job, actions);
        rows.set(job.id, row);
      }
      if (!row.followed) row.update(job);
      row.placeInBook(label, older);
      // Only moved when out of place: moving a node takes focus from a button inside it
      if (element.children[index] !== row.element) element.insertBefore(row.element, element.children[index] || null);
    });
    if (!jobs.length) {
      element.replaceChildren(h("li", { class: "empty" },
        filtered ? "No books with this status." : "No books yet. ", filtered ? null : h("a", { href: "#/" }, "Make one")));
    } else {
      element.querySelector(":scope > .empty")?.remove();
    }
    live.follow(jobs);
  }

  /**
   * Takes a job's row away; returns the row beside it, for focus
   * @param {string} id
   */
  function remove(id) {
    live.stop(id);
    const row = rows.get(id)?.element;
    const next = row?.nextElementSibling || row?.previousElementSibling;
    row?.remove();
    rows.delete(id);
    return next;
  }

  return {
    element,
    draw,
    remove,
    stopFollowing: live.stop,
    stopFollowingAll: live.stopAll,
    /** @param {Job} job */
    update: (job) => rows.get(job.id)?.update(job),
    size: () => rows.size,
    focusFirst: () => element.querySelector("a")?.focus(),
  };
}

/**
 * Live events for the first few active jobs of the list; the page refresh covers the rest
 * @param {Map<string, JobRow>} rows the list's rows by job id
 */
function createLiveRows(rows) {
  /** @type {Map<string, () => void>} job id -> stop() */
  const followed = new Map();

  /** @param {Job[]} jobs */
  function follow(jobs) {
    for (const job of jobs) {
      if (followed.size >= MAX_FOLLOWED) break;
      const row = rows.get(job.id);
      if (!row || !isActive(job.status) || followed.has(job.id)) continue;
      row.followed = true;
      followed.set(job.id, watchJob(job, {
        onUpdate: (latest, doneChunks) => {
          const before = row.status;
          row.update(latest, doneChunks);
          if (before !== latest.status && !isActive(latest.status)) {
            announce(`${jobTitle(latest)}: ${STATUS_LABELS[latest.status]}`);
            stop(job.id);
          }
        },
        onGone: () => stop(job.id),
      }));
    }
  }

  /** @param {string} id */
  function stop(id) {
    followed.get(id)?.();
    followed.delete(id);
    const row = rows.get(id);
    if (row) row.followed = false;
  }

  return { follow, stop, stopAll: () => [...followed.keys()].forEach(stop) };
}
