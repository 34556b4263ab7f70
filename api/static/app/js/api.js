// @ts-check
// The public HTTP API (docs/api.md), and nothing else: the app is one more client of /v1.

import { authHeaders } from "./auth.js";

/** @import { Batch, Chapter, Detail, Format, Job, JobPage, JobSource, Language, Preview, RevisionBody, RevisionPlan, Timings, Voice } from "./types.js" */

export class ApiError extends Error {
  /**
   * @param {number} status the HTTP status; 0 when the server could not be reached
   * @param {Detail} detail
   */
  constructor(status, detail) {
    super(detailText(detail) || `the server answered ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

/**
 * detail is a sentence, or for invalid fields pydantic's list of {type, loc, msg}
 * @param {Detail} detail
 */
export function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((issue) => issue.msg).join("; ");
  return "";
}

let unauthorizedHandler = () => {};
/** @param {() => void} handler called on every 401 */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

/**
 * @typedef {object} RequestOptions
 * @property {string} [method]
 * @property {unknown} [json] a body sent as JSON
 * @property {FormData} [form] a body sent as multipart
 * @property {Record<string, string>} [headers]
 * @property {AbortSignal} [signal]
 * @property {boolean} [blob] a 2xx answer's body as a Blob (audio), whatever its type
 */

/**
 * The answer's JSON (or text, or with `blob` a Blob); null for 204; throws ApiError for any
 * other answer than 2xx
 * @param {string} path
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function request(path, { method = "GET", json, form, headers = {}, signal, blob } = {}) {
  /** @type {RequestInit & {headers: Record<string, string>}} */
  const init = { method, headers: { ...authHeaders(), ...headers }, signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = form; // the browser writes the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (/** @type {Error} */ (error).name === "AbortError") throw error;
    throw new ApiError(0, "the server could not be reached; check your connection");
  }
  if (response.status === 204) return null;
  if (blob && response.ok) return response.blob();
  const body = (response.headers.get("content-type") || "").includes("json")
    ? await response.json().catch(() => null)
    : await response.text();
  if (!response.ok) {
    if (response.status === 401) unauthorizedHandler();
    throw new ApiError(response.status, body && typeof body === "object" ? body.detail : body);
  }
  return body;
}

/** @param {string} id */
const jobPath = (id) => `/v1/jobs/${encodeURIComponent(id)}`;

/** @param {FormData | object} body */
const bodyOptions = (body) => (body instanceof FormData ? { method: "POST", form: body } : { method: "POST", json: body });

/** @type {Promise<Format[]> | null} */
let formats = null;

export const api = {
  /** @returns {Promise<Voice[]>} */
  voices: () => request("/v1/voices"),
  /** @returns {Promise<Language[]>} */
  languages: () => request("/v1/languages"),
  /** @returns {Promise<Format[]>} the service's table, asked for once */
  formats: () => (formats ??= request("/v1/formats").catch((error) => {
    formats = null;
    throw error;
  })),
  /**
   * @param {{limit?: number, cursor?: string | null, status?: string}} [query]
   * @returns {Promise<JobPage>}
   */
  jobs: ({ limit = 20, cursor, status } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    if (status) query.set("status", status);
    return request(`/v1/jobs?${query}`);
  },
  /** @param {string} id @returns {Promise<Job>} */
  job: (id) => request(jobPath(id)),
  /** @param {FormData | object} body @returns {Promise<Job>} */
  createJob: (body) => request("/v1/jobs", bodyOptions(body)),
  /** @param {FormData} form @returns {Promise<Batch>} */
  createBatch: (form) => request("/v1/batches", { method: "POST", form }),
  /** @param {string} id @returns {Promise<Batch>} */
  batch: (id) => request(`/v1/batches/${encodeURIComponent(id)}`),
  /** @param {FormData | object} body @returns {Promise<Preview>} */
  preview: (body) => request("/v1/text/preview", bodyOptions(body)),
  /** @param {FormData | object} body @returns {Promise<import("./types.js").CastAnswer>} */
  cast: (body) => request("/v1/text/cast", bodyOptions(body)),
  /** @param {string} id @returns {Promise<Job>} */
  cancel: (id) => request(`${jobPath(id)}/cancel`, { method: "POST" }),
  /** @param {string} id @returns {Promise<null>} */
  remove: (id) => request(jobPath(id), { method: "DELETE" }),
  /** @param {string} id @returns {Promise<Chapter[]>} */
  chapters: (id) => request(`${jobPath(id)}/chapters`),
  /** @param {string} id @returns {Promise<Timings>} */
  timings: (id) => request(`${jobPath(id)}/timings`),
  /** @param {string} id @returns {Promise<JobSource>} what it was made from */
  source: (id) => request(`${jobPath(id)}/source`),
  /** @param {Job} job @returns {Promise<Job[]>} the book's revisions, oldest first, this one among them */
  revisions: (job) => request(job.links.revisions),
  /**
   * What a revision would make, nothing stored (the dry run)
   * @param {string} id @param {RevisionBody} body @returns {Promise<RevisionPlan>}
   */
  planRevision: (id, body) => request(`${jobPath(id)}/revisions?dry_run=true`, { method: "POST", json: body }),
  /** @param {string} id @param {RevisionBody} body @returns {Promise<Job>} the new job */
  revise: (id, body) => request(`${jobPath(id)}/revisions`, { method: "POST", json: body }),
  /**
   * A voice saying `text`, fetched whole (a few seconds) so that a busy server's answer can be told apart
   * @param {string} voice @param {Record<string, string>} query text, lang... @returns {Promise<Blob>}
   */
  sampleAudio: (voice, query) => request(links.sample(voice, "mp3", query), { blob: true }),
  /** @param {string} id @returns {Promise<string>} the subtitles' text */
  subtitles: (id, format = "vtt", level = "sentence") =>
    request(`${jobPath(id)}/subtitles?format=${format}&level=${level}`),
};

// Where media elements and download links fetch from. They cannot send headers: with a key the
// service worker (sw.js) adds it to these requests.
export const links = {
  /** @param {string} id */
  audio: (id) => `${jobPath(id)}/audio`,
  /** @param {string} id */
  stream: (id, format = "mp3") => `${jobPath(id)}/stream?format=${format}`,
  /** @param {string} id @param {string} format @param {string} [level] */
  subtitles: (id, format, level = "sentence") => `${jobPath(id)}/subtitles?format=${format}&level=${level}`,
  /** @param {string} voice a name or a blend spec @param {Record<string, string>} [query] text, lang... */
  sample: (voice, format = "mp3", query = {}) =>
    `/v1/voices/${encodeURIComponent(voice)}/sample?${new URLSearchParams({ format, ...query })}`,
};
