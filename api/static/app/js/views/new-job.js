// New book: text or files, title and author, a voice chosen by ear, speed, format, language,
// loudness;
// a preview of what will be said; then POST /v1/jobs (one) or /v1/batches (several files).

import { api } from "../api.js";
import { announce, h } from "../dom.js";
import { fieldErrors } from "../form-errors.js";
import { rememberBatch, rememberChapterStarts, startsFromPreview } from "../local-memory.js";
import { go } from "../router.js";
import { createFileDrop } from "../components/file-drop.js";
import { renderPreview } from "../components/preview-panel.js";
import { createVoicePicker } from "../components/voice-picker.js";

const FORMATS = [
  ["m4b", "M4B audiobook"],
  ["mp3", "MP3"],
  ["opus", "Opus (Ogg)"],
  ["flac", "FLAC"],
  ["wav", "WAV"],
];
const LOUDNESS = [
  ["peak", "Natural: loudest moment at −1 dBFS"],
  ["acx", "ACX / Audible: RMS −20 dBFS, peaks ≤ −3 dBFS"],
];
const FIELDS = new Set(["text", "files", "title", "author", "voice", "speed", "format", "lang", "loudness"]);
// A preview is cheap (no worker) but reads the whole text; past this the app does not make
// one by itself just to count chapters
const AUTO_PREVIEW_MAX_BYTES = 200_000;

export function renderNewJob(root) {
  document.title = "New book — kokoro-queue";
  const heading = h("h1", { tabindex: "-1" }, "Make an audiobook");
  const status = h("p", { class: "loading", role: "status" }, "Loading voices…");
  root.append(heading, status);
  let picker = null;
  let alive = true;

  Promise.all([api.voices(), api.languages()]).then(([voices, languages]) => {
    if (!alive) return;
    picker = createVoicePicker(voices);
    status.replaceWith(buildForm(picker, languages));
  }).catch((error) => {
    status.textContent = `The voices could not be loaded: ${error.message}`;
    status.className = "error-text";
  });

  return () => {
    alive = false;
    picker?.stopSamples();
  };
}

function buildForm(picker, languages) {
  let inputVersion = 0; // which input the last preview was of
  let lastPreview = null;

  const text = h("textarea", {
    id: "field-text", name: "text", rows: "10", "aria-describedby": "text-hint error-text",
    placeholder: "Paste the text to read aloud…",
  });
  const files = createFileDrop({
    onChange: (chosen) => {
      inputVersion += 1;
      text.disabled = chosen.length > 0;
      const several = chosen.length > 1;
      title.disabled = several;
      author.disabled = several;
      titleHint.textContent = several ? "Each book of a batch keeps its own title and author." : "";
    },
  });
  const title = h("input", { id: "field-title", name: "title", maxlength: "500", autocomplete: "off", "aria-describedby": "title-hint error-title" });
  const titleHint = h("p", { class: "hint", id: "title-hint" });
  const author = h("input", { id: "field-author", name: "author", maxlength: "500", autocomplete: "off", "aria-describedby": "error-author" });
  const speed = h("input", { id: "field-speed", name: "speed", type: "range", min: "0.5", max: "2", step: "0.05", value: "1", "aria-describedby": "error-speed" });
  const speedShown = h("output", { for: "field-speed", id: "speed-value" }, "1.00×");
  speed.addEventListener("input", () => { speedShown.textContent = `${Number(speed.value).toFixed(2)}×`; });
  const format = h("select", { id: "field-format", name: "format", "aria-describedby": "error-format" },
    FORMATS.map(([value, label]) => h("option", { value }, label)));
  const loudness = h("select", { id: "field-loudness", name: "loudness", "aria-describedby": "loudness-hint error-loudness" },
    LOUDNESS.map(([value, label]) => h("option", { value }, label)));
  const lang = h("select", { id: "field-lang", name: "lang", "aria-describedby": "lang-hint error-lang" },
    h("option", { value: "" }, "Automatic"),
    languages.map((language) => h("option", { value: language.code }, language.name)));

  const formError = h("div", { class: "form-error", id: "form-error", role: "alert" });
  const previewButton = h("button", { type: "button", class: "secondary", id: "preview-button" }, "Preview");
  const submitButton = h("button", { type: "submit", id: "submit-button" }, "Make the audiobook");
  const previewArea = h("div", { id: "preview-area", "aria-live": "polite" });

  const form = h("form", { id: "new-job-form", class: "new-job", novalidate: true },
    h("div", { class: "card" },
      h("h2", {}, "The text"),
      h("div", { class: "field" },
        h("label", { for: "field-text" }, "Paste text"),
        text,
        h("p", { class: "hint", id: "text-hint" }, "Or drop book files below: they are read instead of this box."),
        h("p", { class: "field-error", id: "error-text", role: "alert" })),
      files.element,
      h("div", { class: "two-columns" },
        h("div", { class: "field" }, h("label", { for: "field-title" }, "Title"), title, titleHint,
          h("p", { class: "field-error", id: "error-title", role: "alert" })),
        h("div", { class: "field" }, h("label", { for: "field-author" }, "Author"), author,
          h("p", { class: "field-error", id: "error-author", role: "alert" })))),
    h("div", { class: "card" },
      h("h2", {}, "How it sounds"),
      picker.element,
      h("div", { class: "three-columns" },
        h("div", { class: "field" }, h("label", { for: "field-speed" }, "Speed ", speedShown), speed,
          h("p", { class: "field-error", id: "error-speed", role: "alert" })),
        h("div", { class: "field" }, h("label", { for: "field-format" }, "Format"), format,
          h("p", { class: "field-error", id: "error-format", role: "alert" })),
        h("div", { class: "field" }, h("label", { for: "field-lang" }, "Language of the text"), lang,
          h("p", { class: "hint", id: "lang-hint" }, "Automatic: an EPUB's own language, else American English. Any voice reads any language, with its accent."),
          h("p", { class: "field-error", id: "error-lang", role: "alert" }))),
      h("div", { class: "field" }, h("label", { for: "field-loudness" }, "Loudness"), loudness,
        h("p", { class: "hint", id: "loudness-hint" }, "ACX measures and sets every chapter for Audible's submission rules; the book page shows each chapter's figures."),
        h("p", { class: "field-error", id: "error-loudness", role: "alert" }))),
    formError,
    h("div", { class: "row actions" }, previewButton, submitButton),
    previewArea);

  form.addEventListener("input", () => {
    inputVersion += 1;
  });

  function fields() {
    const values = { voice: picker.value(), speed: Number(speed.value), format: format.value, loudness: loudness.value };
    if (lang.value) values.lang = lang.value;
    if (!title.disabled && title.value.trim()) values.title = title.value.trim();
    if (!author.disabled && author.value.trim()) values.author = author.value.trim();
    return values;
  }

  // JSON for pasted text; multipart (the same fields as form fields) for files
  function bodies() {
    const chosen = files.files();
    if (!chosen.length) return [{ text: text.value, ...fields() }];
    return chosen.map((file) => formData([file], fields()));
  }

  function clearErrors() {
    formError.replaceChildren();
    for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function showError(error) {
    const hasFiles = files.files().length > 0;
    let first = null;
    for (const { field, message } of fieldErrors(error, FIELDS, { hasFiles })) {
      const slot = field && form.querySelector(`#error-${field}`);
      if (!slot) {
        formError.append(h("p", {}, message));
        first ||= formError;
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      const input = form.querySelector(field === "voice" ? "#field-voice" : `#field-${field}`);
      input?.setAttribute("aria-invalid", "true");
      first ||= field === "voice" ? form.querySelector("input[name=voice]:checked") || input : input;
    }
    if (first === formError) formError.setAttribute("tabindex", "-1");
    if (first && !first.disabled) first.focus();
    else first?.scrollIntoView({ block: "center" });
  }

  async function preview() {
    clearErrors();
    previewButton.disabled = true;
    previewArea.replaceChildren(h("p", { class: "loading", role: "status" }, "Reading the text…"));
    const version = inputVersion;
    try {
      const chosen = files.files();
      const speedValue = Number(speed.value);
      const shown = [];
      const results = [];
      for (const [n, body] of bodies().entries()) {
        const result = await api.preview(body);
        results.push(result);
        shown.push(renderPreview(result, { label: chosen[n]?.name, speed: speedValue }));
      }
      lastPreview = { version, results };
      previewArea.replaceChildren(h("h2", { tabindex: "-1", id: "preview-heading" }, "Preview"), ...shown);
      announce("The preview is ready below the form.");
    } catch (error) {
      previewArea.replaceChildren();
      showError(error);
    } finally {
      previewButton.disabled = false;
    }
  }

  async function submit(event) {
    event.preventDefault();
    clearErrors();
    submitButton.disabled = true;
    const chosen = files.files();
    try {
      if (chosen.length > 1) {
        const batch = await api.createBatch(formData(chosen, fields()));
        rememberBatch(batch.id);
        announce(`${chosen.length} books were queued as one batch.`);
        go("#/library");
        return;
      }
      const [body] = bodies();
      const job = await api.createJob(body);
      await rememberChapters(job, body, version());
      go(`#/jobs/${job.id}`);
    } catch (error) {
      showError(error);
    } finally {
      submitButton.disabled = false;
    }
  }

  const version = () => inputVersion;

  // Which part starts which chapter, so progress can count chapters done (see local-memory.js)
  async function rememberChapters(job, body, atVersion) {
    if (!job.chapters?.length) return;
    let result = lastPreview?.version === atVersion ? lastPreview.results[0] : null;
    const size = body instanceof FormData ? body.get("file").size : body.text.length;
    if (!result && size <= AUTO_PREVIEW_MAX_BYTES) {
      result = await api.preview(body).catch(() => null);
    }
    if (result) rememberChapterStarts(job.id, startsFromPreview(result));
  }

  previewButton.addEventListener("click", preview);
  form.addEventListener("submit", submit);
  return form;
}

function formData(fileList, fields) {
  const data = new FormData();
  for (const file of fileList) data.append("file", file, file.name);
  for (const [name, value] of Object.entries(fields)) data.append(name, String(value));
  return data;
}
