// @ts-check
// A job's progress: a bar, and in words the parts and chapters done and the time left.

import { h } from "../dom.js";
import { duration, STATUS_LABELS } from "../format.js";
import { chaptersDone } from "../local-memory.js";

/** @import { Job } from "../types.js" */
/** @typedef {Pick<Job, "id" | "status" | "chapters" | "progress" | "eta_seconds">} ProgressOf */

/** @param {string} idPrefix makes the bar's id unique in the page */
export function createJobProgress(idPrefix) {
  const bar = h("progress", { max: "100", value: "0", id: `${idPrefix}-bar`, class: "job-bar" });
  const label = h("label", { for: bar.id, class: "visually-hidden" }, "Progress");
  const words = h("span", { class: "progress-words" });
  const element = h("div", { class: "job-progress" }, label, bar, words);

  /**
   * @param {ProgressOf} job
   * @param {Set<number>} [doneChunks]
   */
  function update(job, doneChunks) {
    const { progress } = job;
    const percent = job.status === "succeeded" ? 100 : Math.min(100, progress.percent || 0);
    bar.value = percent;
    bar.dataset.percent = String(percent);
    bar.setAttribute("aria-valuetext", `${Math.round(percent)} %`);
    element.dataset.status = job.status;
    words.textContent = describe(job, percent, doneChunks);
  }

  return { element, update };
}

/**
 * The progress in words: percent, parts, chapters done, time left or the state
 * @param {ProgressOf} job
 * @param {number} percent
 * @param {Set<number>} [doneChunks]
 */
export function describe(job, percent, doneChunks) {
  const { progress } = job;
  const parts = [`${Math.floor(percent)} %`, `${progress.chunks_done} of ${progress.chunks_total} parts`];
  const chapters = job.chapters?.length;
  if (chapters) {
    const done = chaptersDone(job, doneChunks);
    parts.push(done === null ? `${chapters} chapters` : `${done} of ${chapters} chapters`);
  }
  if (job.status === "running" && progress.chunks_done >= progress.chunks_total && progress.chunks_total) {
    parts.push("putting the file together");
  } else if (job.status === "running" && job.eta_seconds !== null && job.eta_seconds !== undefined) {
    parts.push(`about ${duration(job.eta_seconds)} left`);
  } else if (job.status !== "running") {
    parts.push(STATUS_LABELS[job.status] || job.status);
  }
  return parts.join(" · ");
}
