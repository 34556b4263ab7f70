// @ts-check
// The cast: who says each quote (POST /v1/text/cast), a voice for each character heard by ear,
// and corrections ("this quote is Jane's"); value() is the job's `cast`, or null for none.

import { api } from "../api.js";
import { announce, h } from "../dom.js";

/** @import { CastAnswer, CastQuote, Voice } from "../types.js" */
/** @typedef {ReturnType<import("./sample-player.js").createSamplePlayer>} SamplePlayer */

// A character's quotes listed to check; the rest are summed up
const QUOTES_SHOWN = 30;
const NARRATOR = "";
const UNKNOWN = "\u0000unknown";

/**
 * @param {Voice[]} voices
 * @param {SamplePlayer} samples
 * @param {() => FormData | object} body the job's body as it is now
 * @param {() => string} narrator the voice chosen for the book
 */
export function createCastStep(voices, samples, body, narrator) {
  const list = h("div", { id: "cast-list" });
  const find = h("button", { type: "button", class: "secondary", id: "cast-button" }, "Find the cast");
  const element = h("fieldset", { class: "field cast-step", id: "field-cast" },
    h("legend", {}, "Cast"),
    h("p", { class: "hint" }, "Give each character a voice of their own; the narrator reads the rest."),
    find, list);
  /** @type {Map<string, HTMLSelectElement>} */
  const chosen = new Map();
  /** @type {Map<string, {chapter: number, start: number, speaker: string}>} */
  const corrections = new Map();

  find.addEventListener("click", async () => {
    find.disabled = true;
    list.replaceChildren(h("p", { class: "loading", role: "status" }, "Finding who speaks…"));
    try {
      show(/** @type {CastAnswer} */ (await api.cast(body())));
    } catch (error) {
      list.replaceChildren(h("p", { class: "error-text" }, `The cast could not be found: ${error.message}`));
    } finally {
      find.disabled = false;
    }
  });

  /** @param {CastAnswer} answer */
  function show(answer) {
    clear();
    if (!answer.characters.length && !answer.quotes.length) {
      list.replaceChildren(h("p", {}, "No quotes: the narrator reads everything."));
      return;
    }
    const names = answer.characters.map((c) => c.name);
    const rows = answer.characters.map((c) => characterRow(c.name, `${c.gender}, ${c.lines} lines`,
      answer.quotes.filter((q) => q.speaker === c.name), names));
    const unknown = answer.quotes.filter((q) => q.speaker === null);
    if (unknown.length) rows.push(characterRow(UNKNOWN, `${unknown.length} lines`, unknown, names));
    list.replaceChildren(h("ul", { class: "cast-list" }, rows));
    announce(`${answer.characters.length} characters found.`);
  }

  /**
   * @param {string} name
   * @param {string} about
   * @param {CastQuote[]} quotes
   * @param {string[]} names
   */
  function characterRow(name, about, quotes, names) {
    const label = name === UNKNOWN ? "Speaker not known" : name;
    const select = h("select", { class: "compact cast-voice", "aria-label": `Voice of ${label}`, dataset: { character: name } },
      h("option", { value: NARRATOR }, "the narrator"),
      voices.map((voice) => h("option", { value: voice.name }, voice.name)));
    chosen.set(name, select);
    const sample = samples.button(() => select.value || narrator(), "▶ Hear");
    const shown = quotes.slice(0, QUOTES_SHOWN).map((quote) => quoteRow(quote, names));
    if (quotes.length > QUOTES_SHOWN) shown.push(h("li", {}, `and ${quotes.length - QUOTES_SHOWN} more`));
    return h("li", { class: "cast-character", dataset: { character: name } },
      h("div", { class: "row" }, h("strong", {}, label), h("span", { class: "hint" }, about), select, sample),
      h("details", {}, h("summary", {}, "Quotes"), h("ol", { class: "cast-quotes" }, shown)));
  }

  /**
   * @param {CastQuote} quote
   * @param {string[]} names
   */
  function quoteRow(quote, names) {
    const key = `${quote.chapter}:${quote.start}`;
    const who = h("select", { class: "compact cast-speaker", "aria-label": "Who says it" },
      h("option", { value: "" }, "not known"),
      names.map((name) => h("option", { value: name, selected: name === quote.speaker }, name)));
    who.addEventListener("change", () => {
      if (who.value && who.value !== quote.speaker) {
        corrections.set(key, { chapter: quote.chapter, start: quote.start, speaker: who.value });
      } else {
        corrections.delete(key);
      }
    });
    return h("li", { dataset: { quote: key } }, h("q", {}, quote.text.slice(0, 200)), " ", who);
  }

  function clear() {
    chosen.clear();
    corrections.clear();
    list.replaceChildren();
  }

  /** The job's `cast`, or null when it reads everything in one voice */
  function value() {
    /** @type {Record<string, string>} */
    const characters = {};
    let unknown = null;
    for (const [name, select] of chosen) {
      if (!select.value) continue;
      if (name === UNKNOWN) unknown = select.value;
      else characters[name] = select.value;
    }
    if (!Object.keys(characters).length && !unknown && !corrections.size) return null;
    return { characters, unknown, corrections: [...corrections.values()] };
  }

  return { element, value, clear };
}
