// @ts-check
// New book: text or files, title and author, a voice chosen by ear, speed, format, language,
// loudness; a preview of what will be said; then POST /v1/jobs (one) or /v1/batches (several
// files). The form's parts are components (text fields, sound fields, error display, preview).

import { api } from "../api.js";
import { announce, h } from "../dom.js";
import { rememberBatch, rememberChapterStarts, startsFromPreview } from "../local-memory.js";
import { go } from "../router.js";
import { createErrorDisplay } from "../components/error-display.js";
import { renderPreview } from "../components/preview-panel.js";
import { createSoundFields } from "../components/sound-fields.js";
import { createTextFields } from "../components/text-fields.js";
import { createVoicePicker } from "../components/voice-picker.js";
import { createBookDetails } from "../components/book-details.js";
import { createCastStep } from "../components/cast-step.js";

/** @import { Format, Job, JobFields, Language, Preview, Voice } from "../types.js" */

// The format offered first: an audiobook player's own
const PREFERRED_FORMAT = "m4b";
const FIELDS = new Set(["text", "files", "title", "author", "voice", "speed", "format", "lang", "loudness"]);
// A preview is cheap (no worker) but reads the whole text; past this the app does not make
// one by itself just to count chapters
const AUTO_PREVIEW_MAX_BYTES = 200_000;

/**
 * The form's parts and what it knows
 * @typedef {object} NewJobForm
 * @property {ReturnType<typeof createTextFields>} text
 * @property {ReturnType<typeof createSoundFields>} sound
 * @property {ReturnType<typeof createBookDetails>} book
 * @property {ReturnType<typeof createCastStep>} cast
 * @property {ReturnType<typeof createErrorDisplay>} errors
 * @property {HTMLInputElement} headings whether pasted text's # lines are chapter headings
 * @property {HTMLElement} previewArea
 * @property {HTMLButtonElement} previewButton
 * @property {HTMLButtonElement} submitButton
 * @property {number} inputVersion counts the changes to the input
 * @property {{version: number, results: Preview[]} | null} lastPreview and which input it was of
 */

/** @param {HTMLElement} root */
export function renderNewJob(root) {
  document.title = "New book — kokoro-queue";
  const heading = h("h1", { tabindex: "-1" }, "Make an audiobook");
  const status = h("p", { class: "loading", role: "status" }, "Loading voices…");
  root.append(heading, status);
  /** @type {ReturnType<typeof createVoicePicker> | null} */
  let picker = null;
  let alive = true;

  Promise.all([api.voices(), api.languages(), api.formats()]).then(([voices, languages, formats]) => {
    if (!alive) return;
    picker = createVoicePicker(voices);
    status.replaceWith(buildForm(picker, voices, languages, jobFormats(formats)));
  }).catch((error) => {
    status.textContent = `The voices could not be loaded: ${error.message}`;
    status.className = "error-text";
  });

  return () => {
    alive = false;
    picker?.stopSamples();
  };
}

/**
 * [name, label] of each format a job's file may have, the preferred one first
 * @param {Format[]} formats
 * @returns {[string, string][]}
 */
function jobFormats(formats) {
  const offered = formats.filter((format) => format.job);
  offered.sort((a, b) => Number(b.name === PREFERRED_FORMAT) - Number(a.name === PREFERRED_FORMAT));
  return offered.map((format) => [format.name, format.label]);
}

/**
 * @param {ReturnType<typeof createVoicePicker>} picker
 * @param {Voice[]} voices
 * @param {Language[]} languages
 * @param {[string, string][]} formats
 */
function buildForm(picker, voices, languages, formats) {
  /** @type {NewJobForm} */
  const parts = {
    text: createTextFields({
      onFilesChange: () => {
        parts.inputVersion += 1;
        parts.cast.clear(); // another book: its own cast
        parts.headings.disabled = parts.text.files().length > 0; // a file's chapters are its own
      },
    }),
    sound: createSoundFields(picker, languages, formats),
    book: createBookDetails(),
    cast: createCastStep(voices, picker.samples, () => bodies(parts, false)[0], picker.value),
    errors: createErrorDisplay(FIELDS),
    headings: h("input", { type: "checkbox", id: "field-headings", name: "headings", checked: true }),
    previewArea: h("div", { id: "preview-area", "aria-live": "polite" }),
    previewButton: h("button", { type: "button", class: "secondary", id: "preview-button" }, "Preview"),
    submitButton: h("button", { type: "submit", id: "submit-button" }, "Make the audiobook"),
    inputVersion: 0,
    lastPreview: null,
  };
  const form = h("form", { id: "new-job-form", class: "new-job", novalidate: true },
    parts.text.element,
    parts.sound.element,
    parts.book.element,
    parts.cast.element,
    parts.errors.element,
    h("div", { class: "row actions" }, parts.previewButton, parts.submitButton),
    parts.previewArea);
  parts.text.element.append(h("div", { class: "row" },
    parts.headings, h("label", { for: "field-headings" }, "Read # lines as chapter headings")));

  form.addEventListener("input", () => {
    parts.inputVersion += 1;
  });
  parts.text.element.addEventListener("input", () => parts.cast.clear()); // the quotes moved
  parts.previewButton.addEventListener("click", () => preview(parts));
  form.addEventListener("submit", (event) => submit(parts, event));
  return form;
}

/**
 * @param {NewJobForm} parts
 * @param {boolean} withCast
 * @returns {JobFields}
 */
function fields(parts, withCast = true) {
  const cast = withCast ? parts.cast.value() : null;
  return { ...parts.sound.values(), ...parts.text.labels(), ...parts.book.values(), ...(cast ? { cast } : {}) };
}

/**
 * JSON for pasted text (its Markdown # headings read as chapters unless unticked); multipart
 * (the same fields as form fields) for files, one per file
 * @param {NewJobForm} parts
 * @param {boolean} withCast
 * @returns {(FormData | JobFields & {text: string, headings: string})[]}
 */
function bodies(parts, withCast = true) {
  const chosen = parts.text.files();
  const headings = parts.headings.checked ? "chapters" : "text";
  if (!chosen.length) return [{ text: parts.text.text(), headings, ...fields(parts, withCast) }];
  return chosen.map((file) => formData([file], fields(parts, withCast)));
}

/** @param {NewJobForm} parts */
async function preview(parts) {
  const { errors, previewArea, previewButton } = parts;
  errors.clear();
  previewButton.disabled = true;
  previewArea.replaceChildren(h("p", { class: "loading", role: "status" }, "Reading the text…"));
  const version = parts.inputVersion;
  try {
    const chosen = parts.text.files();
    const shown = [];
    const results = [];
    for (const [n, body] of bodies(parts).entries()) {
      const result = await api.preview(body);
      results.push(result);
      shown.push(renderPreview(result, { label: chosen[n]?.name }));
    }
    parts.lastPreview = { version, results };
    previewArea.replaceChildren(h("h2", { tabindex: "-1", id: "preview-heading" }, "Preview"), ...shown);
    announce("The preview is ready below the form.");
  } catch (error) {
    previewArea.replaceChildren();
    errors.show(error, { hasFiles: parts.text.files().length > 0 });
  } finally {
    previewButton.disabled = false;
  }
}

/**
 * @param {NewJobForm} parts
 * @param {SubmitEvent} event
 */
async function submit(parts, event) {
  event.preventDefault();
  parts.errors.clear();
  parts.submitButton.disabled = true;
  const chosen = parts.text.files();
  try {
    if (chosen.length > 1) {
      const batch = await api.createBatch(formData(chosen, fields(parts)));
      rememberBatch(batch.id);
      announce(`${chosen.length} books were queued as one batch.`);
      go("#/library");
      return;
    }
    const [body] = bodies(parts);
    const job = await api.createJob(body);
    await rememberChapters(parts, job, body, parts.inputVersion);
    go(`#/jobs/${job.id}`);
  } catch (error) {
    parts.errors.show(error, { hasFiles: parts.text.files().length > 0 });
  } finally {
    parts.submitButton.disabled = false;
  }
}

/**
 * Which part starts which chapter, so progress can count chapters done (see local-memory.js)
 * @param {NewJobForm} parts
 * @param {Job} job
 * @param {FormData | {text: string}} body what the job was made from
 * @param {number} atVersion the input's version when it was sent
 */
async function rememberChapters(parts, job, body, atVersion) {
  if (!job.chapters?.length) return;
  let result = parts.lastPreview?.version === atVersion ? parts.lastPreview.results[0] : null;
  const size = body instanceof FormData ? /** @type {File} */ (body.get("file")).size : body.text.length;
  if (!result && size <= AUTO_PREVIEW_MAX_BYTES) {
    result = await api.preview(body).catch(() => null);
  }
  if (result) rememberChapterStarts(job.id, startsFromPreview(result));
}

/**
 * @param {File[]} fileList
 * @param {JobFields} fields
 */
function formData(fileList, fields) {
  const data = new FormData();
  for (const file of fileList) data.append("file", file, file.name);
  for (const [name, value] of Object.entries(fields)) {
    data.append(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  return data;
}
