// The public HTTP API (docs/api.md), and nothing else: the app is one more client of /v1.

import { authHeaders } from "./auth.js";

export class ApiError extends Error {
  constructor(status, detail) {
    super(detailText(detail) || `the server answered ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

// detail is a sentence, or for invalid fields pydantic's list of {type, loc, msg}
export function detailText(detail) {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((issue) => issue.msg).join("; ");
  return "";
}

let unauthorizedHandler = () => {};
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export async function request(path, { method = "GET", json, form, headers = {}, signal } = {}) {
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
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "the server could not be reached; check your connection");
  }
  if (response.status === 204) return null;
  const body = (response.headers.get("content-type") || "").includes("json")
    ? await response.json().catch(() => null)
    : await response.text();
  if (!response.ok) {
    if (response.status === 401) unauthorizedHandler();
    throw new ApiError(response.status, body && typeof body === "object" ? body.detail : body);
  }
  return body;
}

const jobPath = (id) => `/v1/jobs/${encodeURIComponent(id)}`;

export const api = {
  voices: () => request("/v1/voices"),
  languages: () => request("/v1/languages"),
  jobs: ({ limit = 20, cursor, status } = {}) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    if (status) query.set("status", status);
    return request(`/v1/jobs?${query}`);
  },
  job: (id) => request(jobPath(id)),
  createJob: (body) => request("/v1/jobs", body instanceof FormData ? { method: "POST", form: body } : { method: "POST", json: body }),
  createBatch: (form) => request("/v1/batches", { method: "POST", form }),
  batch: (id) => request(`/v1/batches/${encodeURIComponent(id)}`),
  preview: (body) => request("/v1/text/preview", body instanceof FormData ? { method: "POST", form: body } : { method: "POST", json: body }),
  cancel: (id) => request(`${jobPath(id)}/cancel`, { method: "POST" }),
  remove: (id) => request(jobPath(id), { method: "DELETE" }),
  chapters: (id) => request(`${jobPath(id)}/chapters`),
  timings: (id) => request(`${jobPath(id)}/timings`),
  subtitles: (id, format = "vtt", level = "sentence") =>
    request(`${jobPath(id)}/subtitles?format=${format}&level=${level}`),
};

// Where media elements and download links fetch from. They cannot send headers: with a key the
// service worker (sw.js) adds it to these requests.
export const links = {
  audio: (id) => `${jobPath(id)}/audio`,
  stream: (id, format = "mp3") => `${jobPath(id)}/stream?format=${format}`,
  subtitles: (id, format, level = "sentence") => `${jobPath(id)}/subtitles?format=${format}&level=${level}`,
  sample: (voice, format = "mp3") => `/v1/voices/${encodeURIComponent(voice)}/sample?format=${format}`,
};
