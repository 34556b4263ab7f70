// @ts-check
// A book's cover (GET /v1/jobs/{id}/cover). An <img> sends no key: the service worker adds it
// (media.js), else the image is fetched with the key and shown as a data: URL (the page's
// policy allows data: images, not blob: ones).

import { authHeaders } from "../auth.js";
import { h } from "../dom.js";
import { mediaNeedsFetch, mediaUrl } from "../media.js";

/**
 * The cover as an image (removed if it cannot be loaded), or null for a book without one
 * @param {{cover?: string | null}} job
 * @param {string} className
 * @param {string} alt "" where the title beside it says what it is
 */
export function coverImage(job, className, alt) {
  if (!job.cover) return null;
  const image = h("img", { class: className, alt, decoding: "async", onerror: () => image.remove() });
  if (!mediaNeedsFetch()) image.src = mediaUrl(job.cover);
  else fetch(job.cover, { headers: authHeaders() })
    .then((response) => (response.ok ? response.blob() : Promise.reject(response.status)))
    .then((blob) => new Promise((done) => Object.assign(new FileReader(), { onload: done }).readAsDataURL(blob)))
    .then((loaded) => { image.src = String(/** @type {ProgressEvent<FileReader>} */ (loaded).target?.result); })
    .catch(() => image.remove());
  return image;
}
