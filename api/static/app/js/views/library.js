// Library: the caller's batches and jobs, newest first, a page at a time (cursor paging), with
// live progress, cancel and delete. Updates in place, without reloading.

import { api } from "../api.js";
import { announce, h } from "../dom.js";
import { dateTime, isActive, jobTitle, STATUS_LABELS } from "../format.js";
import { watchJob } from "../job-watch.js";
import { forgetBatch, forgetJob, rememberedBatches } from "../local-memory.js";
import { confirmAction } from "../components/confirm.js";
import { createJobProgress } from "../components/job-progress.js";
import { statusBadge } from "../components/status-badge.js";

const PAGE_SIZE = 20;
const REFRESH_ACTIVE_MS = 3000; // while something on the page is being made
const REFRESH_IDLE_MS = 15000; // for jobs submitted elsewhere
const MAX_FOLLOWED = 3; // live event streams at once: the browser allows 6 connections per host

export function renderLibrary(root) {
  document.title = "Library — kokoro-queue";
  const filter = h("select", { id: "status-filter" },
    h("option", { value: "" }, "All"),
    Object.entries(STATUS_LABELS).map(([value, label]) => h("option", { value }, label)));
  const state = h("p", { class: "muted", id: "library-state", role: "status" }, "Loading…");
  const batchSection = h("section", { id: "batches", "aria-labelledby": "batches-heading", hidden: true },
    h("h2", { id: "batches-heading" }, "Batches"));
  const batchList = h("ul", { class: "batch-list" });
  batchSection.append(batchList);
  const jobList = h("ul", { class: "job-list", id: "job-list", "aria-labelledby": "jobs-heading" });
  const newer = h("button", { type: "button", class: "secondary", id: "page-newer" }, "← Newer");
  const older = h("button", { type: "button", class: "secondary", id: "page-older" }, "Older →");
  const pager = h("nav", { class: "row pager", "aria-label": "Pages" }, newer, older);

  root.append(
    h("div", { class: "title-row" },
      h("h1", { tabindex: "-1" }, "Library"),
      h("a", { href: "#/", class: "button" }, "New book")),
    h("div", { class: "row toolbar" }, h("label", { for: "status-filter" }, "Show"), filter, state),
    batchSection,
    h("section", { "aria-labelledby": "jobs-heading" }, h("h2", { id: "jobs-heading" }, "Books"), jobList),
    pager);

  const rows = new Map(); // job id -> its row
  const batchRows = new Map(); // batch id -> {signature, element}
  const followed = new Map(); // job id -> stop()
  const cursors = [null]; // the cursor of each page seen, for going back
  let page = 0;
  let nextCursor = null;
  let timer = null;
  let alive = true;
  let loading = null;

  async function load() {
    if (loading) return loading;
    loading = (async () => {
      clearTimeout(timer);
      try {
        const status = filter.value || undefined;
        const [listing, batches] = await Promise.all([
          api.jobs({ limit: PAGE_SIZE, cursor: cursors[page], status }),
          page === 0 ? loadBatches() : [],
        ]);
        if (!alive) return;
        const inBatches = new Set(batches.flatMap((batch) => batch.jobs.map((job) => job.id)));
        drawBatches(batches.filter((batch) => !status || batch.jobs.some((job) => job.status === status)));
        drawJobs(listing.jobs.filter((job) => !inBatches.has(job.id)));
        nextCursor = listing.next_cursor;
        newer.disabled = page === 0;
        older.disabled = !nextCursor;
        pager.hidden = page === 0 && !nextCursor;
        const shown = rows.size + batches.length;
        state.textContent = shown ? `Updated ${new Date().toLocaleTimeString()}` : "";
        const active = [...listing.jobs, ...batches.flatMap((batch) => batch.jobs)].some((job) => isActive(job.status));
        timer = setTimeout(load, active ? REFRESH_ACTIVE_MS : REFRESH_IDLE_MS);
      } catch (error) {
        if (!alive) return;
        state.textContent = `Could not load the library: ${error.message}`;
        timer = setTimeout(load, REFRESH_IDLE_MS);
      } finally {
        loading = null;
      }
    })();
    return loading;
  }

  async function loadBatches() {
    const found = await Promise.all(rememberedBatches().map((id) => api.batch(id).catch((error) => {
      if (error.status === 404) forgetBatch(id); // deleted, or made with another key
      return null;
    })));
    return found.filter(Boolean);
  }

  function drawJobs(jobs) {
    const ids = new Set(jobs.map((job) => job.id));
    for (const [id, row] of rows) {
      if (!ids.has(id)) {
        row.element.remove();
        rows.delete(id);
        stopFollowing(id);
      }
    }
    jobs.forEach((job, index) => {
      let row = rows.get(job.id);
      if (!row) {
        row = createJobRow(job, { onCancel: cancel, onDelete: remove });
        rows.set(job.id, row);
      }
      if (!row.followed) row.update(job);
      // Only moved when out of place: moving a node takes focus from a button inside it
      if (jobList.children[index] !== row.element) jobList.insertBefore(row.element, jobList.children[index] || null);
    });
    if (!jobs.length) {
      jobList.replaceChildren(h("li", { class: "empty" },
        filter.value ? "No books with this status." : "No books yet. ", filter.value ? null : h("a", { href: "#/" }, "Make one")));
    } else {
      jobList.querySelector(":scope > .empty")?.remove();
    }
    follow(jobs);
  }

  // Live events for the first few active jobs; the page refresh covers the rest
  function follow(jobs) {
    for (const job of jobs) {
      if (followed.size >= MAX_FOLLOWED) break;
      if (!isActive(job.status) || followed.has(job.id)) continue;
      const row = rows.get(job.id);
      row.followed = true;
      followed.set(job.id, watchJob(job, {
        onUpdate: (latest, doneChunks) => {
          const before = row.status;
          row.update(latest, doneChunks);
          if (before !== latest.status && !isActive(latest.status)) {
            announce(`${jobTitle(latest)}: ${STATUS_LABELS[latest.status]}`);
            stopFollowing(job.id);
          }
        },
        onGone: () => stopFollowing(job.id),
      }));
    }
  }

  function stopFollowing(id) {
    followed.get(id)?.();
    followed.delete(id);
    const row = rows.get(id);
    if (row) row.followed = false;
  }

  // A batch row is drawn again only when something in it changed, and focus inside it is put
  // back on the same link or button, so a keyboard user is not thrown out every refresh
  function drawBatches(batches) {
    batchSection.hidden = !batches.length;
    const focused = batchList.contains(document.activeElement) ? focusSelector(document.activeElement) : null;
    const elements = batches.map((batch) => {
      const signature = JSON.stringify([batch.status, batch.progress,
        batch.jobs.map((job) => [job.id, job.status, job.title, job.progress.percent])]);
      const known = batchRows.get(batch.id);
      if (known?.signature === signature) return known.element;
      const element = batchRow(batch, { onDelete: removeBatch });
      batchRows.set(batch.id, { signature, element });
      return element;
    });
    const same = elements.length === batchList.children.length
      && elements.every((element, n) => batchList.children[n] === element);
    if (!same) batchList.replaceChildren(...elements);
    if (focused && !batchList.contains(document.activeElement)) batchList.querySelector(focused)?.focus();
  }

  async function cancel(job) {
    try {
      const cancelled = await api.cancel(job.id);
      rows.get(job.id)?.update(cancelled);
      stopFollowing(job.id);
      announce(`${jobTitle(job)} was cancelled.`);
    } catch (error) {
      announce(`Could not cancel: ${error.message}`);
      state.textContent = `Could not cancel ${jobTitle(job)}: ${error.message}`;
    }
    load();
  }

  async function remove(job) {
    const sure = await confirmAction({
      title: `Delete “${jobTitle(job)}”?`,
      message: "Its audio and everything about it is deleted. This cannot be undone.",
    });
    if (!sure) return;
    try {
      await api.remove(job.id);
    } catch (error) {
      if (error.status !== 404) {
        state.textContent = `Could not delete ${jobTitle(job)}: ${error.message}`;
        return;
      }
    }
    stopFollowing(job.id);
    forgetJob(job.id);
    const row = rows.get(job.id);
    const next = row?.element.nextElementSibling || row?.element.previousElementSibling;
    row?.element.remove();
    rows.delete(job.id);
    announce(`${jobTitle(job)} was deleted.`);
    (next?.querySelector("a") || filter).focus();
    load();
  }

  async function removeBatch(batch) {
    const sure = await confirmAction({
      title: `Delete this batch of ${batch.jobs.length} books?`,
      message: "Every book of it, its audio and everything about it is deleted. This cannot be undone.",
      confirm: "Delete all",
    });
    if (!sure) return;
    await Promise.all(batch.jobs.map((job) => api.remove(job.id).catch(() => null)));
    forgetBatch(batch.id);
    announce("The batch was deleted.");
    filter.focus();
    load();
  }

  filter.addEventListener("change", () => {
    cursors.length = 1;
    page = 0;
    for (const id of [...followed.keys()]) stopFollowing(id);
    load();
  });
  older.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    load().then(() => jobList.querySelector("a")?.focus());
  });
  newer.addEventListener("click", () => {
    if (page === 0) return;
    page -= 1;
    load().then(() => jobList.querySelector("a")?.focus());
  });

  load();
  return () => {
    alive = false;
    clearTimeout(timer);
    for (const id of [...followed.keys()]) stopFollowing(id);
  };
}

function createJobRow(job, { onCancel, onDelete }) {
  const progress = createJobProgress(`progress-${job.id}`);
  const link = h("a", { href: `#/jobs/${job.id}`, class: "job-title" });
  const badgeSlot = h("span", { class: "badge-slot" });
  const meta = h("p", { class: "row-meta muted" });
  const cancel = h("button", { type: "button", class: "secondary small", dataset: { action: "cancel" } }, "Cancel");
  const remove = h("button", { type: "button", class: "danger small", dataset: { action: "delete" } }, "Delete");
  const element = h("li", { class: "job-row", dataset: { jobId: job.id } },
    h("div", { class: "row-head" }, link, badgeSlot),
    meta, progress.element,
    h("div", { class: "row actions" }, cancel, remove));
  const row = {
    element,
    status: null,
    followed: false,
    job,
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
  };
  cancel.addEventListener("click", () => onCancel(row.job));
  remove.addEventListener("click", () => onDelete(row.job));
  row.update(job);
  return row;
}

function batchRow(batch, { onDelete }) {
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

function focusSelector(element) {
  const href = element.getAttribute("href");
  if (href) return `a[href="${CSS.escape(href)}"]`;
  const label = element.getAttribute("aria-label");
  return label ? `button[aria-label="${CSS.escape(label)}"]` : null;
}
