// @ts-check
// How numbers, times and states read in the app.

/** @import { Job, JobStatus } from "./types.js" */

/**
 * A length of time in words: 1 h 02 min, 3 min 07 s, 42 s; "—" when unknown
 * @param {number | null | undefined} seconds
 */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  if (hours) return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  if (minutes) return `${minutes} min ${String(rest).padStart(2, "0")} s`;
  return `${rest} s`;
}

/**
 * A position in the audio, as players show it: 1:02:03 or 2:03
 * @param {number} seconds
 */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/**
 * An API timestamp in the reader's locale and time zone; "—" when there is none
 * @param {string | null | undefined} iso
 */
export function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString([], {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

/**
 * A whole number with thousands separated as the app's English reads them: 1,258
 * @param {number} number
 */
export const count = (number) => Math.round(number).toLocaleString("en-US");

/** @param {number} count */
export function bytes(count) {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(0)} KB`;
  return `${(count / 1024 / 1024).toFixed(1)} MB`;
}

/** @type {Record<JobStatus, string>} */
export const STATUS_LABELS = {
  queued: "Queued",
  running: "Being made",
  succeeded: "Ready",
  failed: "Failed",
  cancelled: "Cancelled",
};

/** @param {JobStatus} status */
export const isActive = (status) => status === "queued" || status === "running";

/** @param {Pick<Job, "id" | "title">} job */
export function jobTitle(job) {
  return job.title || `Untitled (${job.id.slice(0, 8)})`;
}

/**
 * A job's file name for downloads: its title without characters file systems dislike
 * @param {Pick<Job, "id" | "title">} job
 */
export function fileStem(job) {
  const stem = (job.title || job.id).replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").trim();
  return stem.slice(0, 120) || job.id;
}
