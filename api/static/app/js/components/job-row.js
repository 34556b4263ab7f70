// @ts-check
// One book in the library: its title (a link to its page), status, which revision it is, facts,
// live progress, and cancel and delete buttons.

import { h } from "../dom.js";
import { dateTime, isActive, jobTitle } from "../format.js";
import { coverImage } from "./cover.js";
import { createJobProgress } from "./job-progress.js";
import { statusBadge } from "./status-badge.js";

/** @import { Job, JobStatus } from "../types.js" */
/** @typedef {{onCancel: (job: Job) => void, onDelete: (job: Job) => void}} RowActions */

/**
 * @param {Job} job
 * @param {RowActions} actions
 */
export function createJobRow(job, { onCancel, onDelete }) {
  const progress = createJobProgress(`progress-${job.id}`);
  const link = h("a", { href: `#/jobs/${job.id}`, class: "job-title" });
  const badgeSlot = h("span", { class: "badge-slot" });
  const revision = h("span", { class: "badge revision-badge", hidden: true });
  const meta = h("p", { class: "row-meta muted" });
  const cancel = h("button", { type: "button", class: "secondary small", dataset: { action: "cancel" } }, "Cancel");
  const remove = h("button", { type: "button", class: "danger small", dataset: { action: "delete" } }, "Delete");
  const element = h("li", { class: "job-row", dataset: { jobId: job.id } },
    h("div", { class: "row-head" }, h("span", { class: "row" }, coverImage(job, "cover-thumb", ""), link, revision), badgeSlot),
    meta, progress.element,
    h("div", { class: "row actions" }, cancel, remove));
  const row = {
    element,
    /** @type {JobStatus | null} the status drawn */
    status: null,
    /** whether a live stream updates it (then the page refresh leaves it alone) */
    followed: false,
    job,
    /**
     * @param {Job} latest
     * @param {Set<number>} [doneChunks]
     */
    update(latest, doneChunks) {
      row.job = latest;
      link.textContent = jobTitle(latest);
      if (row.status !== latest.status) badgeSlot.replaceChildren(statusBadge(latest.status));
      row.status = latest.status;
      element.dataset.status = latest.status;
      const parts = [latest.author, latest.voice, latest.format.toUpperCase(), dateTime(latest.created_at)];
      meta.textContent = parts.filter(Boolean).join(" · ");
      progress.update(latest, doneChunks);
      cancel.hidden = !isActive(latest.status);
      cancel.setAttribute("aria-label", `Cancel ${jobTitle(latest)}`);
      remove.setAttribute("aria-label", `Delete ${jobTitle(latest)}`);
    },
    /**
     * Where it stands in its book (see groupRevisions)
     * @param {string} label "revision 2"; "" for a book never revised
     * @param {boolean} older an earlier revision, drawn under the book's newest
     */
    placeInBook(label, older) {
      revision.textContent = label;
      revision.hidden = !label;
      element.classList.toggle("older-revision", older);
    },
  };
  cancel.addEventListener("click", () => onCancel(row.job));
  remove.addEventListener("click", () => onDelete(row.job));
  row.update(job);
  return row;
}
