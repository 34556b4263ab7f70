// @ts-check
// A book's revisions on its page: which one this revises and how much of it was reused, and
// every revision of the book, oldest first, each a link to its page (to hear an older one).

import { h } from "../dom.js";
import { dateTime } from "../format.js";
import { partsReused } from "../revisions.js";
import { statusBadge } from "./status-badge.js";

/** @import { Job } from "../types.js" */

/**
 * "Revision of revision 1: 1,256 of 1,258 parts reused"; null for a book's first revision
 * @param {Job} job
 * @param {Job[]} revisions the book's, oldest first (empty when they could not be listed)
 */
export function revisionOf(job, revisions) {
  if (!job.revision_of) return null;
  const earlier = revisions.findIndex((revision) => revision.id === job.revision_of);
  return h("p", { class: "revision-of", id: "revision-of" }, "Revision of ",
    earlier < 0 && revisions.length
      ? "a revision since deleted" // its page would say "No such book"
      : h("a", { href: `#/jobs/${job.revision_of}` }, earlier < 0 ? "an earlier revision" : `revision ${earlier + 1}`),
    `: ${partsReused(job)}`);
}

/**
 * The book's revisions, `currentId` marked; null when the book has only the one
 * @param {Job[]} revisions oldest first
 * @param {string} currentId
 */
export function revisionList(revisions, currentId) {
  if (revisions.length < 2) return null;
  return h("section", { class: "card", "aria-labelledby": "revisions-heading" },
    h("h2", { id: "revisions-heading" }, "Revisions"),
    h("ol", { class: "revision-list", id: "revision-list" }, revisions.map((revision, n) => h("li", { dataset: { jobId: revision.id } },
      h("a", { href: `#/jobs/${revision.id}`, "aria-current": revision.id === currentId ? "page" : null },
        `Revision ${n + 1}`, revision.id === currentId ? " (this one)" : ""),
      h("span", { class: "muted" }, ` ${dateTime(revision.created_at)}${revision.revision_of ? ` · ${partsReused(revision)}` : ""} `),
      statusBadge(revision.status)))));
}
