// How numbers, times and states read in the app.

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

// A position in the audio, as players show it: 1:02:03 or 2:03
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

export function dateTime(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString([], {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

export function bytes(count) {
  if (count < 1024) return `${count} B`;
  if (count < 1024 * 1024) return `${(count / 1024).toFixed(0)} KB`;
  return `${(count / 1024 / 1024).toFixed(1)} MB`;
}

export const STATUS_LABELS = {
  queued: "Queued",
  running: "Being made",
  succeeded: "Ready",
  failed: "Failed",
  cancelled: "Cancelled",
};

export const isActive = (status) => status === "queued" || status === "running";

export function jobTitle(job) {
  return job.title || `Untitled (${job.id.slice(0, 8)})`;
}

// A job's file name for downloads: its title without characters file systems dislike
export function fileStem(job) {
  const stem = (job.title || job.id).replace(/[\\/:*?"<>|\u0000-\u001f]+/g, " ").trim();
  return stem.slice(0, 120) || job.id;
}
