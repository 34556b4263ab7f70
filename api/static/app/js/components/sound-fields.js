// @ts-check
// The new-book form's "How it sounds": the voice picker, speed, file format, language and
// loudness.

import { h } from "../dom.js";
import { field } from "./field.js";

/** @import { JobFields, Language } from "../types.js" */

const LOUDNESS = [
  ["peak", "Natural: loudest moment at −1 dBFS"],
  ["acx", "ACX / Audible: RMS −20 dBFS, peaks ≤ −3 dBFS"],
];

/**
 * @param {{element: HTMLElement, value: () => string}} picker the voice picker
 * @param {Language[]} languages
 * @param {[string, string][]} formats [value, label] of each file format offered, the default first
 */
export function createSoundFields(picker, languages, formats) {
  const speed = h("input", { id: "field-speed", name: "speed", type: "range", min: "0.5", max: "2", step: "0.05", value: "1", "aria-describedby": "error-speed" });
  const speedShown = h("output", { for: "field-speed", id: "speed-value" }, "1.00×");
  speed.addEventListener("input", () => { speedShown.textContent = `${Number(speed.value).toFixed(2)}×`; });
  const format = h("select", { id: "field-format", name: "format", "aria-describedby": "error-format" },
    formats.map(([value, label]) => h("option", { value }, label)));
  const loudness = h("select", { id: "field-loudness", name: "loudness", "aria-describedby": "loudness-hint error-loudness" },
    LOUDNESS.map(([value, label]) => h("option", { value }, label)));
  const lang = h("select", { id: "field-lang", name: "lang", "aria-describedby": "lang-hint error-lang" },
    h("option", { value: "" }, "Automatic"),
    languages.map((language) => h("option", { value: language.code }, language.name)));

  const element = h("div", { class: "card" },
    h("h2", {}, "How it sounds"),
    picker.element,
    h("div", { class: "three-columns" },
      field("speed", ["Speed ", speedShown], speed),
      field("format", "Format", format),
      field("lang", "Language of the text", lang,
        h("p", { class: "hint", id: "lang-hint" }, "Automatic: an EPUB's own language, else American English. Any voice reads any language, with its accent."))),
    field("loudness", "Loudness", loudness,
      h("p", { class: "hint", id: "loudness-hint" }, "ACX measures and sets every chapter for Audible's submission rules; the book page shows each chapter's figures.")));

  return {
    element,
    speed: () => Number(speed.value),
    /** @returns {JobFields} */
    values() {
      /** @type {JobFields} */
      const values = { voice: picker.value(), speed: Number(speed.value), format: format.value, loudness: loudness.value };
      if (lang.value) values.lang = lang.value;
      return values;
    },
  };
}
