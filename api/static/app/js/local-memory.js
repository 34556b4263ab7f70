// @ts-check
// What this browser remembers that the API does not list: the batches it submitted (there is
// no "list my batches" route) and, per job, which chunk starts which chapter (from the preview,
// so that progress can say how many chapters are done). Both are conveniences: the app works
// without them.

import { keyScope } from "./auth.js";

/** @import { Job, Preview } from "./types.js" */

const BATCHES = "kq-batches";
const CHAPTER_STARTS = "kq-chapter-starts";
const MAX_BATCHES = 200;
const MAX_JOBS = 500;

/**
 * @param {string} name
 * @returns {Record<string, any>}
 */
function read(name) {
  try {
    return JSON.parse(localStorage.getItem(name) || "null") || {};
  } catch {
    return {};
  }
}

/**
 * @param {string} name
 * @param {Record<string, unknown>} value
 */
function write(name, value) {
  try {
    localStorage.setItem(name, JSON.stringify(value));
  } catch {
    // storage full or disabled: forgetting is harmless
  }
}

/** @returns {string[]} the ids of the batches this browser submitted with this key */
export function rememberedBatches() {
  return read(BATCHES)[keyScope()] || [];
}

/** @param {string} id */
export function rememberBatch(id) {
  const all = read(BATCHES);
  const scope = keyScope();
  all[scope] = [id, ...(all[scope] || []).filter((/** @type {string} */ known) => known !== id)].slice(0, MAX_BATCHES);
  write(BATCHES, all);
}

/** @param {string} id */
export function forgetBatch(id) {
  const all = read(BATCHES);
  const scope = keyScope();
  all[scope] = (all[scope] || []).filter((/** @type {string} */ known) => known !== id);
  write(BATCHES, all);
}

/**
 * @param {string} jobId
 * @param {number[]} starts the index of each chapter's first chunk, in chapter order
 */
export function rememberChapterStarts(jobId, starts) {
  const all = read(CHAPTER_STARTS);
  all[jobId] = starts;
  const ids = Object.keys(all);
  for (const old of ids.slice(0, Math.max(0, ids.length - MAX_JOBS))) delete all[old];
  write(CHAPTER_STARTS, all);
}

/**
 * @param {string} jobId
 * @returns {number[] | null}
 */
export function chapterStarts(jobId) {
  return read(CHAPTER_STARTS)[jobId] || null;
}

/** @param {string} jobId */
export function forgetJob(jobId) {
  const all = read(CHAPTER_STARTS);
  delete all[jobId];
  write(CHAPTER_STARTS, all);
}

/**
 * The first chunk of each chapter in a preview's chunks
 * @param {Pick<Preview, "chunks">} preview
 */
export function startsFromPreview(preview) {
  /** @type {number[]} */
  const starts = [];
  for (const chunk of preview.chunks) {
    if (starts.length <= chunk.chapter) starts.push(chunk.index);
  }
  return starts;
}

/**
 * Chapters whose every chunk is done; null when it cannot be known
 * @param {Pick<Job, "id" | "status" | "chapters" | "progress">} job
 * @param {Set<number>} [doneChunks] the indexes of the chunks known to be done
 * @returns {number | null}
 */
export function chaptersDone(job, doneChunks) {
  const chapters = job.chapters?.length || 0;
  if (!chapters) return null;
  if (job.status === "succeeded") return chapters;
  const starts = chapterStarts(job.id);
  if (!starts || starts.length !== chapters || !doneChunks) return null;
  const total = job.progress.chunks_total;
  let done = 0;
  starts.forEach((start, n) => {
    const end = n + 1 < starts.length ? starts[n + 1] : total;
    let complete = true;
    for (let chunk = start; chunk < end && complete; chunk += 1) complete = doneChunks.has(chunk);
    if (complete) done += 1;
  });
  return done;
}
