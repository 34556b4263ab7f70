// @ts-check
// Library: the caller's batches and jobs, newest first, a page at a time (cursor paging), with
// live progress, cancel and delete. Updates in place, without reloading. The parts on screen
// are components (toolbar, batch list, job list, pager); this view loads and acts.

import { api } from "../api.js";
import { announce, h } from "../dom.js";
import { isActive, jobTitle } from "../format.js";
import { forgetBatch, forgetJob, rememberedBatches } from "../local-memory.js";
import { createBatchList } from "../components/batch-list.js";
import { confirmAction } from "../components/confirm.js";
import { createJobList } from "../components/job-list.js";
import { createLibraryToolbar } from "../components/library-toolbar.js";
import { createCursorPager } from "../components/pager.js";

/** @import { Batch, Job } from "../types.js" */

const PAGE_SIZE = 20;
const REFRESH_ACTIVE_MS = 3000; // while something on the page is being made
const REFRESH_IDLE_MS = 15000; // for jobs submitted elsewhere

/**
 * The view's parts and what it is doing
 * @typedef {object} Library
 * @property {ReturnType<typeof createLibraryToolbar>} toolbar
 * @property {ReturnType<typeof createCursorPager>} pager
 * @property {ReturnType<typeof createJobList>} jobs
 * @property {ReturnType<typeof createBatchList>} batches
 * @property {boolean} alive false once the view is left
 * @property {ReturnType<typeof setTimeout> | undefined} timer the next refresh
 * @property {Promise<void> | null} loading the refresh under way
 */

/** @param {HTMLElement} root */
export function renderLibrary(root) {
  document.title = "Library — kokoro-queue";
  /** @type {Library} */
  const library = {
    toolbar: createLibraryToolbar(),
    pager: createCursorPager({ onMove: () => load(library).then(() => library.jobs.focusFirst()) }),
    jobs: createJobList({ onCancel: (job) => cancel(library, job), onDelete: (job) => remove(library, job) }),
    batches: createBatchList({ onDelete: (batch) => removeBatch(library, batch) }),
    alive: true,
    timer: undefined,
    loading: null,
  };
  const { toolbar, pager, jobs, batches } = library;
  root.append(
    h("div", { class: "title-row" },
      h("h1", { tabindex: "-1" }, "Library"),
      h("a", { href: "#/", class: "button" }, "New book")),
    toolbar.element,
    batches.element,
    h("section", { "aria-labelledby": "jobs-heading" }, h("h2", { id: "jobs-heading" }, "Books"), jobs.element),
    pager.element);

  toolbar.filter.addEventListener("change", () => {
    pager.reset();
    jobs.stopFollowingAll();
    load(library);
  });
  load(library);
  return () => {
    library.alive = false;
    clearTimeout(library.timer);
    jobs.stopFollowingAll();
  };
}

/**
 * Reads the page (and on the first page the remembered batches) again, at most one at a time
 * @param {Library} library
 */
function load(library) {
  library.loading ||= refresh(library).finally(() => {
    library.loading = null;
  });
  return library.loading;
}

/** @param {Library} library */
async function refresh(library) {
  const { toolbar, pager, jobs, batches } = library;
  clearTimeout(library.timer);
  try {
    const status = toolbar.status();
    const [listing, found] = await Promise.all([
      api.jobs({ limit: PAGE_SIZE, cursor: pager.cursor(), status }),
      pager.page() === 0 ? loadBatches() : [],
    ]);
    if (!library.alive) return;
    const inBatches = new Set(found.flatMap((batch) => batch.jobs.map((job) => job.id)));
    batches.draw(found.filter((batch) => !status || batch.jobs.some((job) => job.status === status)));
    jobs.draw(listing.jobs.filter((job) => !inBatches.has(job.id)), { filtered: Boolean(toolbar.status()) });
    pager.update(listing.next_cursor);
    const shown = jobs.size() + found.length;
    toolbar.say(shown ? `Updated ${new Date().toLocaleTimeString()}` : "");
    const active = [...listing.jobs, ...found.flatMap((batch) => batch.jobs)].some((job) => isActive(job.status));
    library.timer = setTimeout(() => load(library), active ? REFRESH_ACTIVE_MS : REFRESH_IDLE_MS);
  } catch (error) {
    if (!library.alive) return;
    toolbar.say(`Could not load the library: ${error.message}`);
    library.timer = setTimeout(() => load(library), REFRESH_IDLE_MS);
  }
}

/** @returns {Promise<Batch[]>} the batches this browser submitted that still exist */
async function loadBatches() {
  const found = await Promise.all(rememberedBatches().map((id) => api.batch(id).catch((error) => {
    if (error.status === 404) forgetBatch(id); // deleted, or made with another key
    return null;
  })));
  return found.filter((batch) => batch !== null);
}

/**
 * @param {Library} library
 * @param {Job} job
 */
async function cancel(library, job) {
  try {
    const cancelled = await api.cancel(job.id);
    library.jobs.update(cancelled);
    library.jobs.stopFollowing(job.id);
    announce(`${jobTitle(job)} was cancelled.`);
  } catch (error) {
    announce(`Could not cancel: ${error.message}`);
    library.toolbar.say(`Could not cancel ${jobTitle(job)}: ${error.message}`);
  }
  load(library);
}

/**
 * @param {Library} library
 * @param {Job} job
 */
async function remove(library, job) {
  const sure = await confirmAction({
    title: `Delete “${jobTitle(job)}”?`,
    message: "Its audio and everything about it is deleted. This cannot be undone.",
  });
  if (!sure) return;
  try {
    await api.remove(job.id);
  } catch (error) {
    if (error.status !== 404) {
      library.toolbar.say(`Could not delete ${jobTitle(job)}: ${error.message}`);
      return;
    }
  }
  forgetJob(job.id);
  const next = library.jobs.remove(job.id);
  announce(`${jobTitle(job)} was deleted.`);
  (next?.querySelector("a") || library.toolbar.filter).focus();
  load(library);
}

/**
 * @param {Library} library
 * @param {Batch} batch
 */
async function removeBatch(library, batch) {
  const sure = await confirmAction({
    title: `Delete this batch of ${batch.jobs.length} books?`,
    message: "Every book of it, its audio and everything about it is deleted. This cannot be undone.",
    confirm: "Delete all",
  });
  if (!sure) return;
  await Promise.all(batch.jobs.map((job) => api.remove(job.id).catch(() => null)));
  forgetBatch(batch.id);
  announce("The batch was deleted.");
  library.toolbar.filter.focus();
  load(library);
}
