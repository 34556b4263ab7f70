// @ts-check
// What a job would say (POST /v1/text/preview): its length, its chapters (and whether they are
// pasted text's # headings), and its spoken form with every change from the written text marked
// (numbers, dates, abbreviations...).

import { h } from "../dom.js";
import { wordDiff } from "../diff.js";
import { duration } from "../format.js";

/** @import { Preview, PreviewChunk } from "../types.js" */
/** @typedef {Preview & {chapters?: string[] | null, chapters_from_headings?: boolean}} ChapteredPreview */

const MAX_CHUNKS_SHOWN = 300; // a whole book in the page would be slow to read and to draw

/**
 * @param {ChapteredPreview} preview
 * @param {{label?: string}} [options] label: the file's name, for several
 */
export function renderPreview(preview, { label } = {}) {
  const chapters = chapterSummaries(preview);
  const changed = preview.chunks.filter((chunk) => chunk.text !== chunk.spoken).length;
  const shown = preview.chunks.slice(0, MAX_CHUNKS_SHOWN);
  return h("section", { class: "preview", "aria-label": label ? `Preview of ${label}` : "Preview" },
    label ? h("h3", {}, label) : null,
    h("p", { class: "preview-summary" },
      `About ${duration(preview.estimated_audio_seconds)} of audio · ${preview.chunks.length} parts · `,
      `${chapters.length} chapter${chapters.length === 1 ? "" : "s"}`,
      preview.chapters_from_headings ? ", from # headings · " : " · ",
      `${changed} part${changed === 1 ? "" : "s"} read differently from how they are written`),
    preview.warnings.length ? h("ul", { class: "warnings" }, preview.warnings.map((w) => h("li", {}, w))) : null,
    h("h4", {}, "Chapters"),
    chapters.length > 1 || preview.chapters_from_headings
      ? h("ol", { class: "preview-chapters" }, chapters.map((chapter) =>
        h("li", {}, h("span", { class: "chapter-title" }, chapter.title), " ",
          h("span", { class: "muted" }, `about ${duration(chapter.seconds)}`))))
      : h("p", { class: "muted" }, "None: it is read as one piece. A book file's chapters are found in it, and pasted text's # headings."),
    h("h4", {}, "What will be said"),
    h("p", { class: "hint" }, h("mark", { class: "changed" }, "Marked words"),
      " are said differently from how they are written; hover over one to see the written form."),
    h("div", { class: "spoken" }, shown.map(spokenChunk)),
    preview.chunks.length > shown.length
      ? h("p", { class: "muted" }, `… and ${preview.chunks.length - shown.length} more parts.`)
      : null);
}

// A chapter's title is the job's own (a heading), else its first part; shortened
/** @param {ChapteredPreview} preview the API's estimate of each part (at the form's speed) */
function chapterSummaries(preview) {
  /** @type {{title: string, seconds: number}[]} */
  const chapters = [];
  for (const chunk of preview.chunks) {
    if (!chapters[chunk.chapter]) {
      chapters[chunk.chapter] = { title: shorten(preview.chapters?.[chunk.chapter] ?? chunk.text, 80), seconds: 0 };
    }
    chapters[chunk.chapter].seconds += chunk.estimated_seconds;
  }
  return chapters.filter(Boolean);
}

/** @param {PreviewChunk} chunk */
function spokenChunk(chunk) {
  const paragraph = chunk.pause_after === "paragraph" || chunk.pause_after === "chapter";
  const runs = wordDiff(chunk.text, chunk.spoken);
  const parts = runs.map((run) => {
    if (run.same) return `${run.words.join(" ")} `;
    if (!run.spoken.length) {
      return [h("del", { class: "dropped", title: "not said" }, run.written.join(" ")), " "];
    }
    const written = run.written.join(" ");
    return [
      h("mark", { class: "changed", title: written ? `written: ${written}` : "added when spoken" },
        run.spoken.join(" ")),
      // What the title shows on hover, for screen readers
      h("span", { class: "visually-hidden" }, ` (written: ${written || "nothing"})`),
      " ",
    ];
  });
  return h("span", { class: paragraph ? "chunk paragraph-end" : "chunk", dataset: { chapter: chunk.chapter } }, parts);
}

/**
 * @param {string} text
 * @param {number} length
 */
function shorten(text, length) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
