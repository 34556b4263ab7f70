// @ts-check
// One job: what it is, its progress live, a player that starts while the book is being made,
// its chapters (jump to, download), downloads, read-along, errors in plain words, the book's
// revisions, and a word fixed and the book made again.

import { api, links } from "../api.js";
import { announce, append, h } from "../dom.js";
import { clock, dateTime, duration, fileStem, isActive, jobTitle, STATUS_LABELS } from "../format.js";
import { watchJob } from "../job-watch.js";
import { forgetJob } from "../local-memory.js";
import { downloadLink } from "../media.js";
import { go } from "../router.js";
import { confirmAction } from "../components/confirm.js";
import { coverImage } from "../components/cover.js";
import { createJobProgress } from "../components/job-progress.js";
import { createPlayer } from "../components/player.js";
import { proofPanel } from "../components/proof-panel.js";
import { createReadAlong, parseVtt } from "../components/read-along.js";
import { revisionList, revisionOf } from "../components/revision-list.js";
import { statusBadge } from "../components/status-badge.js";
import { createWordFix } from "../components/word-fix.js";

/** @import { Chapter, ChapterLevel, Job } from "../types.js" */
/** @typedef {ReturnType<typeof createPlayer>} Player */

/**
 * @param {HTMLElement} root
 * @param {string} jobId
 */
export function renderJob(root, jobId) {
  document.title = "Book — kokoro-queue";
  const heading = h("h1", { tabindex: "-1" }, "Loading…");
  root.append(h("p", {}, h("a", { href: "#/library" }, "← Library")), heading);
  /** @type {(() => void)[]} */
  const cleanups = [];
  let alive = true;

  api.job(jobId).then((job) => {
    if (alive) cleanups.push(drawJob(root, heading, job));
  }).catch((error) => {
    heading.textContent = error.status === 404 ? "No such book" : "The book could not be loaded";
    root.append(h("p", {}, error.status === 404
      ? "It may have been deleted, or it belongs to another key."
      : error.message));
  });

  return () => {
    alive = false;
    cleanups.forEach((cleanup) => cleanup());
  };
}

/**
 * @param {HTMLElement} root
 * @param {HTMLElement} heading
 * @param {Job} job
 * @returns {() => void} what to do when the page is left
 */
function drawJob(root, heading, job) {
  heading.textContent = jobTitle(job);
  document.title = `${jobTitle(job)} — kokoro-queue`;
  const badgeSlot = h("span", { id: "job-status" }, statusBadge(job.status));
  const facts = h("dl", { class: "facts" });
  const progress = createJobProgress("job-progress");
  const player = createPlayer(job);
  const cancel = h("button", { type: "button", class: "secondary", id: "cancel-job" }, "Cancel");
  const remove = h("button", { type: "button", class: "danger", id: "delete-job" }, "Delete");
  const problem = h("section", { id: "job-error", class: "card problem", hidden: true });
  const warnings = h("ul", { class: "warnings", hidden: !job.warnings.length }, job.warnings.map((w) => h("li", {}, w)));
  const finished = h("div", { id: "finished-parts" });
  const revisionLine = h("div");
  const revisions = h("div");
  /** @type {(() => void) | null} */
  let stopFinished = null;
  let current = job;
  let drewFinished = false;

  // append(), not root.append(): the DOM's own would write a null as the text "null"
  append(root, [
    job.author ? h("p", { class: "byline" }, `by ${job.author}`) : null,
    drawBook(job),
    h("div", { class: "row" }, badgeSlot, h("div", { class: "row actions" }, cancel, remove)),
    revisionLine,
    progress.element,
    warnings,
    problem,
    h("section", { class: "card", "aria-labelledby": "listen-heading" },
      h("h2", { id: "listen-heading" }, "Listen"), player.element),
    finished,
    revisions,
    h("section", { class: "card", "aria-labelledby": "details-heading" },
      h("h2", { id: "details-heading" }, "Details"), facts)]);
  api.revisions(job).catch(() => []).then((found) => {
    append(revisionLine, [revisionOf(job, found)]);
    append(revisions, [revisionList(found, job.id)]);
  });

  /**
   * @param {Job} latest
   * @param {Set<number>} [doneChunks]
   */
  function update(latest, doneChunks) {
    const changed = latest.status !== current.status;
    current = latest;
    if (changed) {
      badgeSlot.replaceChildren(statusBadge(latest.status));
      announce(`${jobTitle(latest)}: ${STATUS_LABELS[latest.status]}`);
    }
    progress.update(latest, doneChunks);
    player.update(latest);
    cancel.hidden = !isActive(latest.status);
    drawFacts(facts, latest);
    if (latest.status === "failed") drawProblem(problem, latest);
    if (latest.status === "succeeded" && !drewFinished) {
      drewFinished = true;
      drawFinished(finished, latest, player).then((stop) => { stopFinished = stop; });
    }
  }

  cancel.addEventListener("click", async () => {
    try {
      update(await api.cancel(current.id));
      stopWatching();
    } catch (error) {
      announce(`Could not cancel: ${error.message}`);
    }
  });
  remove.addEventListener("click", async () => {
    const sure = await confirmAction({
      title: `Delete “${jobTitle(current)}”?`,
      message: "Its audio and everything about it is deleted. This cannot be undone.",
    });
    if (!sure) return;
    try {
      await api.remove(current.id);
    } catch (error) {
      if (error.status !== 404) return announce(`Could not delete: ${error.message}`);
    }
    forgetJob(current.id);
    announce(`${jobTitle(current)} was deleted.`);
    go("#/library");
  });

  update(job);
  const stopWatching = watchJob(job, {
    onUpdate: update,
    onGone: () => {
      heading.textContent = "This book was deleted";
      player.stop();
    },
  });
  return () => {
    stopWatching();
    player.stop();
    stopFinished?.();
  };
}

/**
 * @param {HTMLElement} facts
 * @param {Job} job
 */
function drawFacts(facts, job) {
  const rows = [
    ["Voice", job.voice],
    ["Speed", `${job.speed}×`],
    ["Language", job.lang],
    ["Format", job.format.toUpperCase()],
    ["Chapters", job.chapters?.length || "none"],
    ["Loudness", job.loudness === "acx" ? "ACX / Audible" : "Natural (peak −1 dBFS)"],
    ["Length", job.audio_seconds ? duration(job.audio_seconds) : "—"],
    ["Submitted", dateTime(job.created_at)],
    ["Started", dateTime(job.started_at)],
    ["Finished", dateTime(job.finished_at)],
    ["Made in", job.wall_seconds ? `${duration(job.wall_seconds)}` : "—"],
  ];
  facts.replaceChildren(...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, String(value))]));
}

/**
 * The cover, series, year, ISBN and description, where the book has them
 * @param {Job} job
 */
function drawBook(job) {
  const series = job.series && (job.series_index != null ? `${job.series}, book ${job.series_index}` : job.series);
  const line = [series, job.year, job.isbn && `ISBN ${job.isbn}`].filter(Boolean).join(" · ");
  if (!job.cover && !line && !job.description) return null;
  return h("section", { class: "book-info", id: "book-info" },
    coverImage(job, "cover", `Cover of ${jobTitle(job)}`),
    h("div", {}, line ? h("p", { class: "muted", id: "book-series" }, line) : null,
      job.description ? h("p", { class: "description", id: "book-description" }, job.description) : null));
}

/**
 * @param {HTMLElement} problem
 * @param {Job} job
 */
function drawProblem(problem, job) {
  problem.hidden = false;
  problem.replaceChildren();
  append(problem, [
    h("h2", {}, "This book could not be made"),
    h("p", {}, plainError(job.error)),
    job.error ? h("details", {}, h("summary", {}, "What the server said"), h("pre", {}, job.error)) : null,
    h("p", {}, h("a", { href: "#/" }, "Try again with a new book"))]);
}

/**
 * The server's error, said for a person
 * @param {string | null} error
 */
export function plainError(error) {
  if (!error) return "Something went wrong while it was being made.";
  const chunk = error.match(/^chunk (\d+) failed: (.*)$/s);
  if (chunk) {
    const part = Number(chunk[1]) + 1;
    if (/worker was lost/.test(chunk[2])) return `The worker reading part ${part} stopped, and retrying did not help.`;
    if (/time limit|timed? ?out/i.test(chunk[2])) return `Part ${part} took too long to read.`;
    return `Part ${part} of the text could not be read aloud.`;
  }
  if (/broker|queue|redis/i.test(error)) return "The job could not be handed to the workers: the queue was unreachable.";
  if (/assembl|encod/i.test(error)) return "Every part was read, but putting them together into one file failed.";
  return "Something went wrong while it was being made.";
}

/**
 * Chapters, downloads, read-along and word fixes, once the file exists. Resolves with what
 * stops them (the read-along's following, a fix's open dialog)
 * @param {HTMLElement} container
 * @param {Job} job
 * @param {Player} player
 * @returns {Promise<() => void>}
 */
async function drawFinished(container, job, player) {
  const stem = fileStem(job);
  const formats = await api.formats().catch(() => []);
  const extension = formats.find((format) => format.name === job.format)?.extension ?? job.format;
  const downloads = h("section", { class: "card", "aria-labelledby": "downloads-heading" },
    h("h2", { id: "downloads-heading" }, "Download"),
    h("ul", { class: "downloads" },
      h("li", {}, downloadLink(links.audio(job.id), `${stem}.${extension}`, `The whole book (${job.format.toUpperCase()})`, { id: "download-audio" })),
      h("li", {}, downloadLink(links.subtitles(job.id, "srt"), `${stem}.srt`, "Subtitles (SRT)", { id: "download-srt" })),
      h("li", {}, downloadLink(links.subtitles(job.id, "vtt"), `${stem}.vtt`, "Subtitles (WebVTT)", { id: "download-vtt" })),
      h("li", {}, downloadLink(links.subtitles(job.id, "vtt", "word"), `${stem}.words.vtt`, "Word-by-word subtitles (WebVTT)", { id: "download-word-vtt" }))));
  const chapterSection = h("section", { class: "card", "aria-labelledby": "chapters-heading", hidden: true });
  const readSection = h("section", { class: "card", "aria-labelledby": "read-heading" },
    h("h2", { id: "read-heading" }, "Read along"), h("p", { class: "muted" }, "Loading the text…"));
  const fixSlot = h("div");
  container.replaceChildren(chapterSection, readSection, fixSlot, downloads);
  if (job.levels?.length) container.append(drawLevels(job.levels));
  append(container, [proofPanel(job, player)]);

  const [chapters, vtt, timings] = await Promise.all([
    api.chapters(job.id).catch(() => []),
    api.subtitles(job.id, "vtt").catch(() => null),
    // Word timings may be missing (a server without them answers 404): sentences still work
    api.timings(job.id).catch(() => null),
  ]);
  if (chapters.length) drawChapters(chapterSection, chapters, player, stem, extension);
  if (!vtt) {
    readSection.replaceChildren(h("h2", { id: "read-heading" }, "Read along"),
      h("p", { class: "muted" }, "The text with its timing is not available for this book."));
    const fix = createWordFix(job, null);
    fixSlot.replaceChildren(fix.element);
    return fix.stop;
  }
  const readAlong = createReadAlong({ cues: parseVtt(vtt), words: timings?.words, chapters, audio: player.audio });
  const fix = createWordFix(job, readAlong.element);
  fixSlot.replaceChildren(fix.element);
  let note = null;
  if (!timings) note = "Word timing is not available for this book: the current sentence is marked.";
  else if (timings.estimated) note = "Word times are estimated for this book.";
  readSection.replaceChildren(h("h2", { id: "read-heading" }, "Read along"),
    ...(note ? [h("p", { class: "hint" }, note)] : []), readAlong.element);
  return () => {
    readAlong.stop();
    fix.stop();
  };
}

/**
 * Each chapter's loudness as measured in the finished file, and the gain it was given
 * @param {ChapterLevel[]} levels
 */
function drawLevels(levels) {
  /** @param {number} value */
  const level = (value) => (Number.isFinite(value) ? `${value.toFixed(1)} dBFS` : "silent");
  /** @param {number} value */
  const decibels = (value) => `${value > 0 ? "+" : ""}${value.toFixed(1)} dB`;
  return h("section", { class: "card", "aria-labelledby": "levels-heading" },
    h("h2", { id: "levels-heading" }, "Loudness by chapter"),
    h("table", { class: "levels", id: "levels-table" },
      h("thead", {}, h("tr", {}, ["Chapter", "RMS", "Peak", "Gain"].map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, levels.map((chapter) => h("tr", {},
        h("th", { scope: "row" }, `${chapter.chapter + 1}. ${chapter.title}`),
        h("td", {}, level(chapter.rms_dbfs)),
        h("td", {}, level(chapter.peak_dbfs)),
        h("td", {}, decibels(chapter.gain_db)))))));
}

/**
 * @param {HTMLElement} section
 * @param {Chapter[]} chapters
 * @param {Player} player
 * @param {string} stem the downloads' file name
 * @param {string} extension
 */
function drawChapters(section, chapters, player, stem, extension) {
  section.hidden = false;
  section.replaceChildren(
    h("h2", { id: "chapters-heading" }, "Chapters"),
    h("ul", { class: "chapter-list", id: "chapter-list" }, chapters.map((chapter) => h("li", { dataset: { start: chapter.start_seconds } },
      h("button", {
        type: "button", class: "secondary small chapter-jump", "aria-label": `Play chapter ${chapter.index + 1}: ${chapter.title}`,
        onclick: () => player.seek(chapter.start_seconds),
      }, "▶ Play"),
      h("span", { class: "chapter-title" }, `${chapter.index + 1}. ${chapter.title}`),
      h("span", { class: "muted" }, ` ${clock(chapter.start_seconds)} – ${clock(chapter.end_seconds)}`),
      chapter.audio ? downloadLink(chapter.audio, `${stem} - ${String(chapter.index + 1).padStart(2, "0")}.${extension}`,
        "Download", { class: "chapter-download", "aria-label": `Download chapter ${chapter.index + 1}: ${chapter.title}` }) : null))));
}
