// @ts-check
// A proof-listened book's findings on its page: how many parts were heard back and made again,
// and each part still doubted, what was written beside what the recognizer heard, with a
// button that plays the book from there (docs/proof.md).

import { h } from "../dom.js";
import { clock } from "../format.js";

/** @import { Job } from "../types.js" */

/**
 * A flagged part (GET /v1/jobs/{id}: proof.flagged)
 * @typedef {object} ProofFlag
 * @property {number} index
 * @property {number} chapter
 * @property {number | null} start_s where its speech starts in the file; null until placed
 * @property {string} written
 * @property {string} spoken
 * @property {string} heard
 * @property {number} wer
 */

/**
 * @typedef {object} Proof
 * @property {number} chunks_checked
 * @property {number} remade
 * @property {number} flagged_count
 * @property {ProofFlag[]} flagged the first ones, by position
 * @property {number | null} book_wer
 */

/**
 * The "Proof-listening" card; null for a book that was not proof-listened
 * @param {Job} job
 * @param {{seek: (seconds: number) => void}} player
 */
export function proofPanel(job, player) {
  const proof = /** @type {Job & {proof?: Proof | null}} */ (job).proof;
  if (!proof) return null;
  const words = proof.book_wer == null ? "" : ` · ${(100 * proof.book_wer).toFixed(1)} % of words heard differently`;
  const summary = `${proof.chunks_checked} parts heard back · ${proof.remade} made again · `
    + `${proof.flagged_count === 0 ? "none" : proof.flagged_count} to check${words}`;
  const more = proof.flagged_count - proof.flagged.length;
  return h("section", { class: "card", id: "proof-panel", "aria-labelledby": "proof-heading" },
    h("h2", { id: "proof-heading" }, "Proof-listening"),
    h("p", { class: "muted", id: "proof-summary" }, summary),
    proof.flagged.length ? h("ol", { class: "proof-flags", id: "proof-flags" }, proof.flagged.map((flag) => drawFlag(flag, player))) : null,
    more > 0 ? h("p", { class: "hint" }, `…and ${more} more: GET /v1/jobs/${job.id}/proof lists them all.`) : null);
}

/**
 * @param {ProofFlag} flag
 * @param {{seek: (seconds: number) => void}} player
 */
function drawFlag(flag, player) {
  const start = flag.start_s;
  return h("li", { dataset: { index: flag.index } },
    h("button", {
      type: "button", class: "secondary small proof-play", disabled: start == null,
      "aria-label": `Play part ${flag.index + 1} from ${start == null ? "its start" : clock(start)}`,
      onclick: () => { if (start != null) player.seek(start); },
    }, "▶ Play from here"),
    h("span", { class: "muted" }, ` ${start == null ? "" : clock(start)} · part ${flag.index + 1}, chapter ${flag.chapter + 1}`),
    h("dl", { class: "facts" },
      h("dt", {}, "Written"), h("dd", {}, flag.written),
      h("dt", {}, "Heard"), h("dd", {}, flag.heard || "(nothing)")));
}
