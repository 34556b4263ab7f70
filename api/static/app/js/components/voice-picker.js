// @ts-check
// Choosing a voice by ear: every voice with its language, gender and grade, a button to hear
// each, and a mixer that blends two or three voices into the API's `a:0.7,b:0.3` form.

import { h } from "../dom.js";
import { createSamplePlayer } from "./sample-player.js";

/** @import { Voice } from "../types.js" */
/** @typedef {ReturnType<typeof createSamplePlayer>} SamplePlayer */

const MAX_BLEND = 3;

/**
 * The voice field: value() is the chosen voice's name or the blend's spec
 * @param {Voice[]} voices
 */
export function createVoicePicker(voices) {
  const samples = createSamplePlayer();
  const byLanguage = groupBy(voices, (voice) => voice.language_name || "Other");
  const defaultVoice = voices.find((voice) => voice.default)?.name || voices[0]?.name;

  const filter = h("select", { id: "voice-filter", class: "compact" },
    h("option", { value: "" }, `All languages (${voices.length})`),
    [...byLanguage].map(([name, group]) => h("option", { value: name }, `${name} (${group.length})`)));
  const list = h("ul", { class: "voice-list", id: "voice-list" },
    voices.map((voice) => voiceRow(voice, voice.name === defaultVoice, samples)));
  filter.addEventListener("change", () => {
    for (const row of /** @type {HTMLCollectionOf<HTMLElement>} */ (list.children)) row.hidden = Boolean(filter.value) && row.dataset.language !== filter.value;
  });

  const blend = createBlendMixer(voices, defaultVoice, samples);
  const blendToggle = h("input", { type: "checkbox", id: "blend-on", "aria-controls": "blend-mixer" });
  blendToggle.addEventListener("change", () => {
    blend.element.hidden = !blendToggle.checked;
    list.classList.toggle("muted-list", blendToggle.checked);
  });

  const element = h("fieldset", { class: "field voice-picker", id: "field-voice", "aria-describedby": "error-voice" },
    h("legend", {}, "Voice"),
    h("div", { class: "row" },
      h("label", { for: "voice-filter" }, "Show"), filter),
    list,
    h("div", { class: "blend-toggle" },
      blendToggle, h("label", { for: "blend-on" }, "Blend two or three voices")),
    blend.element,
    h("p", { class: "field-error", id: "error-voice", role: "alert" }),
    samples.audio);

  function value() {
    if (blendToggle.checked) return blend.spec();
    const checked = /** @type {HTMLInputElement | null} */ (list.querySelector("input[name=voice]:checked"));
    return checked?.value || defaultVoice;
  }

  return { element, value, samples, stopSamples: samples.stop };
}

/**
 * @param {Voice} voice
 * @param {boolean} checked
 * @param {SamplePlayer} samples
 */
function voiceRow(voice, checked, samples) {
  const id = `voice-${voice.name}`;
  const facts = [voice.language_name, voice.gender, voice.grade && `grade ${voice.grade}`]
    .filter(Boolean).join(" · ");
  return h("li", { class: "voice-row", dataset: { language: voice.language_name || "Other" } },
    h("input", { type: "radio", name: "voice", id, value: voice.name, checked }),
    h("label", { for: id },
      h("span", { class: "voice-name" }, voice.name),
      voice.default ? h("span", { class: "badge" }, "default") : null,
      h("span", { class: "voice-facts" }, facts || "unknown language")),
    samples.button(voice.name, "▶ Hear"));
}

/**
 * @param {Voice[]} voices
 * @param {string} defaultVoice
 * @param {SamplePlayer} samples
 */
function createBlendMixer(voices, defaultVoice, samples) {
  const rows = h("ol", { class: "blend-rows" });
  const spec = h("output", { id: "blend-spec", for: "" });
  const add = h("button", { type: "button", class: "secondary small" }, "+ Add a voice");
  let made = 0; // ids stay unique when rows are removed and added again

  /**
   * @param {string} name
   * @param {number} weight
   */
  function addRow(name, weight) {
    made += 1;
    const n = made;
    const select = h("select", { id: `blend-voice-${n}`, class: "compact" },
      voices.map((voice) => h("option", { value: voice.name, selected: voice.name === name }, voice.name)));
    const slider = h("input", {
      type: "range", id: `blend-weight-${n}`, min: "0.05", max: "1", step: "0.05", value: String(weight),
    });
    const shown = h("output", { for: slider.id }, weight.toFixed(2));
    const remove = h("button", { type: "button", class: "secondary small", "aria-label": `Remove voice ${n}` }, "✕");
    const row = h("li", { class: "blend-row" },
      h("label", { for: select.id }, `Voice ${n}`), select,
      h("label", { for: slider.id }, "weight"), slider, shown, remove);
    slider.addEventListener("input", () => { shown.textContent = Number(slider.value).toFixed(2); update(); });
    select.addEventListener("change", update);
    remove.addEventListener("click", () => { row.remove(); update(); });
    rows.append(row);
    update();
  }

  function parts() {
    return [...rows.children].map((row) => ({
      name: /** @type {HTMLSelectElement} */ (row.querySelector("select")).value,
      weight: Number(/** @type {HTMLInputElement} */ (row.querySelector("input[type=range]")).value),
    }));
  }

  // The weights as the API keeps them: normalized to sum to 1, three decimals at most
  function blendSpec() {
    const chosen = parts();
    if (chosen.length === 1) return chosen[0].name;
    const total = chosen.reduce((sum, part) => sum + part.weight, 0) || 1;
    return chosen.map((part) => `${part.name}:${round(part.weight / total)}`).join(",");
  }

  function update() {
    const count = rows.children.length;
    add.disabled = count >= MAX_BLEND;
    for (const button of rows.querySelectorAll("button")) button.disabled = count <= 2;
    spec.textContent = blendSpec();
  }

  const second = voices.find((voice) => voice.name !== defaultVoice)?.name || defaultVoice;
  addRow(defaultVoice, 0.7);
  addRow(second, 0.3);
  add.addEventListener("click", () => addRow(voices[0].name, 0.2));

  const element = h("div", { class: "blend", id: "blend-mixer", hidden: true },
    rows,
    h("div", { class: "row" }, add, samples.button(blendSpec, "▶ Hear the blend")),
    h("p", { class: "hint" }, "Sent as ", spec));
  return { element, spec: blendSpec };
}

/** @param {number} value */
const round = (value) => String(Math.round(value * 1000) / 1000);

/**
 * @template T
 * @param {T[]} items
 * @param {(item: T) => string} key
 */
function groupBy(items, key) {
  /** @type {Map<string, T[]>} */
  const groups = new Map();
  for (const item of items) {
    const name = key(item);
    if (!groups.has(name)) groups.set(name, []);
    /** @type {T[]} */ (groups.get(name)).push(item);
  }
  return groups;
}
