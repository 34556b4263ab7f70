// @ts-check
// The library's batches (those this browser submitted): a row each with its progress and the
// state of each of its books, and a button that deletes them all.

import { h } from "../dom.js";
import { dateTime, jobTitle } from "../format.js";
import { createJobProgress } from "./job-progress.js";
import { statusBadge } from "./status-badge.js";

/** @import { Batch } from "../types.js" */

/** @param {{onDelete: (batch: Batch) => void}} actions */
export function createBatchList({ onDelete }) {
  const list = h("ul", { class: "batch-list" });
  const element = h("section", { id: "batches", "aria-labelledby": "batches-heading", hidden: true },
    h("h2", { id: "batches-heading" }, "Batches"), list);
  /** @type {Map<string, {signature: string, element: HTMLElement}>} batch id -> its row */
  const drawn = new Map();

  // A batch row is drawn again only when something in it changed, and focus inside it is put
  // back on the same link or button, so a keyboard user is not thrown out every refresh
  /** @param {Batch[]} batches */
  function draw(batches) {
    element.hidden = !batches.length;
    const focused = list.contains(document.activeElement) ? focusSelector(/** @type {Element} */ (document.activeElement)) : null;
    const rows = batches.map((batch) => {
      const signature = JSON.stringify([batch.status, batch.progress,
        batch.jobs.map((job) => [job.id, job.status, job.title, job.progress.percent])]);
      const known = drawn.get(batch.id);
      if (known?.signature === signature) return known.element;
      const row = batchRow(batch, onDelete);
      drawn.set(batch.id, { signature, element: row });
      return row;
    });
    const same = rows.length === list.children.length && rows.every((row, n) => list.children[n] === row);
    if (!same) list.replaceChildren(...rows);
    if (focused && !list.contains(document.activeElement)) /** @type {HTMLElement | null} */ (list.querySelector(focused))?.focus();
  }

  return { element, draw };
}

/**
 * @param {Batch} batch
 * @param {(batch: Batch) => void} onDelete
 */
function batchRow(batch, onDelete) {
  const progress = createJobProgress(`progress-batch-${batch.id}`);
  progress.update({ ...batch, chapters: null, eta_seconds: null });
  const remove = h("button", { type: "button", class: "danger small", "aria-label": `Delete the batch of ${batch.jobs.length} books` }, "Delete all");
  remove.addEventListener("click", () => onDelete(batch));
  return h("li", { class: "batch-row", dataset: { batchId: batch.id, status: batch.status } },
    h("div", { class: "row-head" },
      h("span", { class: "job-title" }, `Batch of ${batch.jobs.length} books`), statusBadge(batch.status)),
    h("p", { class: "row-meta muted" }, dateTime(batch.created_at)),
    progress.element,
    h("ul", { class: "batch-jobs" }, batch.jobs.map((job) => h("li", { dataset: { jobId: job.id, status: job.status } },
      h("a", { href: `#/jobs/${job.id}` }, jobTitle(job)), " ", statusBadge(job.status),
      h("span", { class: "muted" }, ` ${Math.floor(job.status === "succeeded" ? 100 : job.progress.percent)} %`)))),
    h("div", { class: "row actions" }, remove));
}

/**
 * A selector that finds the same link or button in a row drawn again
 * @param {Element} element
 * @returns {string | null}
 */
function focusSelector(element) {
  const href = element.getAttribute("href");
  if (href) return `a[href="${CSS.escape(href)}"]`;
  const label = element.getAttribute("aria-label");
  return label ? `button[aria-label="${CSS.escape(label)}"]` : null;
}
