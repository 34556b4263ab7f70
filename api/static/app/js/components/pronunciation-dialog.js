// @ts-check
// "Say this word as…": a word's pronunciation, a respelling or IPA heard first in the book's
// voice (a sample of the word said so), then Check and Re-make (remake.js).

import { api } from "../api.js";
import { h } from "../dom.js";
import { chapterStarts, rememberChapterStarts } from "../local-memory.js";
import { bareIpa, pronunciationRevision } from "../revisions.js";
import { createRemake } from "./remake.js";

/** @import { Job } from "../types.js" */
/** @import { SayKind } from "../revisions.js" */

const HINTS = {
  say: "Spell it as it sounds, the stressed part in capitals; Hear it plays the book's voice saying it.",
  phonemes: "Kokoro's IPA (as espeak-ng writes it, ˈ before the stressed syllable); Hear it plays the book's voice saying the word so.",
};

/**
 * Opens the dialog for `word` of the finished `job`; it takes itself away when closed
 * @param {Job} job
 * @param {string} word
 * @returns {HTMLDialogElement}
 */
export function openPronunciationDialog(job, word) {
  const wordInput = h("input", { id: "fix-word", value: word, autocomplete: "off", spellcheck: "false" });
  const spelling = h("input", { id: "fix-spelling", autocomplete: "off", spellcheck: "false" });
  const spellingLabel = h("label", { for: spelling.id });
  const hint = h("p", { class: "hint", id: "fix-hint" });
  const hear = h("button", { type: "button", class: "secondary", id: "fix-hear" }, "▶ Hear it");
  const flow = createRemake(job, "fix", (revision) => {
    // A word fix keeps every part where it was: the chapters start at the same parts
    const starts = chapterStarts(job.id);
    if (starts) rememberChapterStarts(revision.id, starts);
    dialog.close();
  });
  const audio = h("audio", { class: "visually-hidden" });
  const kinds = /** @type {SayKind[]} */ (["say", "phonemes"]).map((kind) => h("label", { class: "fix-kind" },
    h("input", { type: "radio", name: "fix-kind", value: kind, id: `fix-kind-${kind}`, checked: kind === "say" }),
    kind === "say" ? " A respelling" : " IPA phonemes"));
  const form = h("form", { class: "fix-form" },
    h("h2", { id: "fix-title" }, "Say this word as…"),
    h("div", { class: "field" }, h("label", { for: wordInput.id }, "Word"), wordInput),
    h("fieldset", { class: "field" }, h("legend", {}, "Say it with"), h("div", { class: "row" }, kinds)),
    h("div", { class: "field" }, spellingLabel, spelling, hint),
    flow.problem, flow.plan, audio,
    h("div", { class: "row end" },
      h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, "Cancel"),
      hear, flow.check, flow.remake));
  const dialog = h("dialog", { class: "confirm fix-dialog", "aria-labelledby": "fix-title" }, form);
  let sampleUrl = "";

  const kind = () => /** @type {SayKind} */ (/** @type {HTMLInputElement} */ (form.querySelector("input[name=fix-kind]:checked")).value);
  const fail = flow.fail;

  function changed() {
    flow.reset();
    hint.textContent = HINTS[kind()];
    spellingLabel.textContent = kind() === "say" ? "Respelling" : "IPA";
    spelling.placeholder = kind() === "say" ? "her-MY-oh-nee" : "hɜːmˈaɪəni";
  }
  form.addEventListener("input", changed);

  hear.addEventListener("click", async () => {
    const said = kind() === "say" ? spelling.value.trim() : bareIpa(spelling.value);
    if (!said) return fail(`Type the ${kind() === "say" ? "respelling" : "IPA"} first, then hear it.`);
    fail("");
    hear.classList.add("busy");
    /** @type {Record<string, string>} */
    const query = kind() === "say" ? { text: said } : { text: wordInput.value.trim() || word, phonemes: said };
    try {
      const sample = await api.sampleAudio(job.voice, { ...query, lang: job.lang, speed: String(job.speed) });
      URL.revokeObjectURL(sampleUrl);
      audio.src = sampleUrl = URL.createObjectURL(sample);
      await audio.play();
    } catch (error) {
      fail(error.status === 429 || error.status === 503 ? "The voices are busy: try Hear it again in a few seconds."
        : `It could not be played: ${error.message}`);
    } finally {
      hear.classList.remove("busy");
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    flow.run(pronunciationRevision(wordInput.value, kind(), spelling.value));
  });

  dialog.addEventListener("close", () => {
    audio.pause();
    URL.revokeObjectURL(sampleUrl);
    dialog.remove();
  });
  changed();
  document.body.append(dialog);
  dialog.showModal();
  (word ? spelling : wordInput).focus();
  return dialog;
}
