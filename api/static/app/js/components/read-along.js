// @ts-check
// Read-along: the text of the part being heard, the current sentence and word marked as the
// audio plays. Sentences come from the sentence subtitles (GET .../subtitles?format=vtt), word
// times from GET .../timings; without timings (older jobs, or a server that has none) only
// sentences are followed. Only the current chapter (or a page of sentences) is in the page, so
// a long book stays light.

import { h } from "../dom.js";
import { clock } from "../format.js";

const SENTENCES_PER_PAGE = 200; // the page size for a book without chapters

/** @import { Chapter, Timings } from "../types.js" */
/** @typedef {{start: number, end: number, text: string}} VttCue */
/**
 * A word of a sentence, with its times when /timings has them; element once it is drawn
 * @typedef {{text: string, timed: boolean, start?: number, end?: number, element?: HTMLElement}} Token
 */
/** @typedef {VttCue & {tokens: Token[], element?: HTMLElement}} Cue */
/** @typedef {{title: string, start: number, cues: Cue[]}} Section */

/**
 * @param {object} source
 * @param {VttCue[]} source.cues the sentence subtitles
 * @param {Timings["words"]} [source.words] the word timings, where the server has them
 * @param {Chapter[]} source.chapters
 * @param {HTMLAudioElement} source.audio the player it follows
 */
export function createReadAlong({ cues: sentences, words, chapters, audio }) {
  const cues = attachWords(sentences, words || []);
  const sections = splitSections(cues, chapters);
  const body = h("div", { class: "read-along-text", id: "read-along-text" });
  const heading = h("p", { class: "read-along-where muted" });
  const element = h("div", { class: "read-along" }, heading, body);
  let shownSection = -1;
  /** @type {Cue | null} */
  let currentCue = null;
  /** @type {Token | null} */
  let currentWord = null;
  let frame = 0;

  /** @param {number} index */
  function showSection(index) {
    shownSection = index;
    const section = sections[index];
    heading.textContent = section.title;
    body.replaceChildren(...section.cues.map((cue) => {
      cue.element = h("span", { class: "cue", dataset: { start: cue.start } },
        cue.tokens.map((token) => [token.timed
          ? (token.element = h("span", { class: "word" }, token.text))
          : token.text, " "]));
      cue.element.addEventListener("click", () => {
        audio.currentTime = cue.start;
      });
      return cue.element;
    }));
    body.scrollTop = 0;
  }

  function follow() {
    const time = audio.currentTime;
    const sectionIndex = lastAtOrBefore(sections, time, (section) => section.start);
    if (sectionIndex !== shownSection) showSection(Math.max(0, sectionIndex));
    const cues = sections[shownSection].cues;
    const cue = cues[lastAtOrBefore(cues, time, (c) => c.start)] || null;
    if (cue !== currentCue) {
      currentCue?.element?.classList.remove("current-sentence");
      currentCue = cue;
      cue?.element?.classList.add("current-sentence");
      if (cue?.element) keepInView(body, cue.element);
    }
    const timed = cue ? cue.tokens.filter((token) => token.timed) : [];
    const token = timed[lastAtOrBefore(timed, time, (t) => /** @type {number} */ (t.start))];
    const word = token && time <= /** @type {number} */ (token.end) + 0.15 ? token : null;
    if (word !== currentWord) {
      currentWord?.element?.classList.remove("current-word");
      currentWord = word;
      word?.element?.classList.add("current-word");
    }
  }

  // timeupdate fires a few times a second; words are shorter, so follow every frame in play
  function tick() {
    follow();
    frame = audio.paused ? 0 : requestAnimationFrame(tick);
  }
  const onPlay = () => { cancelAnimationFrame(frame); frame = requestAnimationFrame(tick); };
  audio.addEventListener("play", onPlay);
  audio.addEventListener("seeked", follow);
  audio.addEventListener("timeupdate", follow);

  if (sections.length) showSection(0);
  return {
    element,
    stop() {
      cancelAnimationFrame(frame);
      audio.removeEventListener("play", onPlay);
      audio.removeEventListener("seeked", follow);
      audio.removeEventListener("timeupdate", follow);
    },
  };
}

/**
 * A WEBVTT file's cues
 * @param {string} text
 * @returns {VttCue[]}
 */
export function parseVtt(text) {
  /** @type {VttCue[]} */
  const cues = [];
  for (const block of text.replace(/\r\n?/g, "\n").split(/\n\n+/)) {
    const lines = block.split("\n");
    const timeLine = lines.findIndex((line) => line.includes("-->"));
    if (timeLine < 0) continue;
    const [start, end] = lines[timeLine].split("-->").map((part) => seconds(part.trim().split(/\s+/)[0]));
    cues.push({ start, end, text: lines.slice(timeLine + 1).join(" ").trim() });
  }
  return cues;
}

/** @param {string} stamp hh:mm:ss.mmm or mm:ss.mmm */
function seconds(stamp) {
  return stamp.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

// Each cue's words, with times where /timings has them: the timed words within the cue's time
// span, matched in order to its written words (timings drop the punctuation around a word)
/**
 * @param {VttCue[]} sentences
 * @param {Timings["words"]} words
 * @returns {Cue[]}
 */
function attachWords(sentences, words) {
  let next = 0;
  const cues = sentences.map((cue) => ({
    ...cue,
    tokens: cue.text.split(/\s+/).filter(Boolean).map((text) => /** @type {Token} */ ({ text, timed: false })),
  }));
  for (const cue of cues) {
    while (next < words.length && words[next].end < cue.start - 0.05) next += 1;
    for (const token of cue.tokens) {
      const word = words[next];
      if (!word || word.start > cue.end + 0.05) break;
      if (bare(token.text).includes(bare(word.word)) && bare(word.word)) {
        Object.assign(token, { timed: true, start: word.start, end: word.end });
        next += 1;
      }
    }
  }
  return cues;
}

/** @param {string} text */
const bare = (text) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");

/**
 * @param {Cue[]} cues
 * @param {Chapter[]} chapters
 * @returns {Section[]}
 */
function splitSections(cues, chapters) {
  if (chapters?.length) {
    return chapters.map((chapter, n) => ({
      title: `Chapter ${n + 1}: ${chapter.title}`,
      start: n === 0 ? 0 : chapter.start_seconds,
      cues: cues.filter((cue) => cue.start >= (n === 0 ? 0 : chapter.start_seconds)
        && (n + 1 >= chapters.length || cue.start < chapters[n + 1].start_seconds)),
    }));
  }
  const sections = [];
  for (let first = 0; first < cues.length; first += SENTENCES_PER_PAGE) {
    const part = cues.slice(first, first + SENTENCES_PER_PAGE);
    sections.push({
      title: cues.length > SENTENCES_PER_PAGE ? `From ${clock(part[0].start)}` : "",
      start: first === 0 ? 0 : part[0].start,
      cues: part,
    });
  }
  return sections;
}

/**
 * The index of the last item whose key is at or before `value` (items sorted by key); -1 if none
 * @template T
 * @param {T[]} items
 * @param {number} value
 * @param {(item: T) => number} key
 */
function lastAtOrBefore(items, value, key) {
  let low = 0;
  let high = items.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (key(items[middle]) <= value) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

/**
 * Scrolls the read-along box (not the page) so the sentence stays visible
 * @param {HTMLElement} box
 * @param {HTMLElement} element
 */
function keepInView(box, element) {
  const top = element.offsetTop; // the box is positioned: offsets are within it
  if (top < box.scrollTop || top + element.offsetHeight > box.scrollTop + box.clientHeight) {
    box.scrollTop = Math.max(0, top - box.clientHeight / 3);
  }
}
