// @ts-check
// Revisions without the page (pure, so tests/web/revisions.test.mjs checks them): a word fix's
// or a chapter edit's body, parts made or reused in words, where a plan's changes are and what
// changed in them, and a library page's books with their revisions together.

import { wordDiff } from "./diff.js";
import { count } from "./format.js";

/** @import { Job, JobSource, RevisionBody, RevisionPlan } from "./types.js" */
/** @typedef {{body: RevisionBody, problem: null} | {body: null, problem: string}} Wanted a body, else what to fix */
/** @typedef {"say" | "phonemes"} SayKind a respelling, or Kokoro IPA */

/**
 * A word picked from the text, without the punctuation around it: "station." -> "station"
 * @param {string} text
 */
export const bareWord = (text) => text.trim().replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");

/**
 * IPA as typed, without the /slashes/ or [brackets] it may come in
 * @param {string} typed
 */
export const bareIpa = (typed) => typed.trim().replace(/^\/(.*)\/$|^\[(.*)\]$/su, "$1$2").trim();

/**
 * The revision that says `word` as `spelling` (IPA may come in /slashes/); else what to fix
 * @param {string} word
 * @param {SayKind} kind
 * @param {string} spelling
 * @returns {Wanted}
 */
export function pronunciationRevision(word, kind, spelling) {
  const key = word.trim();
  const said = kind === "say" ? spelling.trim() : bareIpa(spelling);
  if (!key) return { body: null, problem: "Type the word to fix." };
  if (!said) {
    return { body: null, problem: `Type how to say “${key}”: ${kind === "say" ? "a respelling, such as her-MY-oh-nee" : "its IPA, such as hɜːmˈaɪəni"}.` };
  }
  return { body: { pronunciations: { [key]: kind === "say" ? { say: said } : { phonemes: said } } }, problem: null };
}

/**
 * "3 of 1,258 parts will be made again."
 * @param {Pick<RevisionPlan, "chunks_to_make" | "chunks_total">} plan
 */
export function partsToMake({ chunks_to_make: toMake, chunks_total: total }) {
  const sentence = `${count(toMake)} of ${count(total)} parts will be made again`;
  return toMake ? `${sentence}.` : `${sentence}: nothing would change, so there is nothing to make.`;
}

/**
 * "1,256 of 1,258 parts reused"
 * @param {Pick<Job, "chunks_reused" | "chunks_to_make">} job
 */
export const partsReused = (job) =>
  `${count(job.chunks_reused)} of ${count(job.chunks_reused + job.chunks_to_make)} parts reused`;

/**
 * What can be edited: a job's chapters ("2. The Carpet-Bag"), or the one text it was made from
 * @param {JobSource} source
 * @returns {{label: string, text: string}[]}
 */
export const editableTexts = ({ text, chapters }) =>
  chapters?.map((chapter, n) => ({ label: `${n + 1}. ${chapter.title ?? "Untitled"}`, text: chapter.text }))
  ?? [{ label: "The text", text: text ?? "" }];

/**
 * Whether `edited` says other than `text` (line ends as a textarea gives them back aside)
 * @param {string} text
 * @param {string} edited
 */
export const textChanged = (text, edited) => text.replace(/\r\n?/g, "\n") !== edited.replace(/\r\n?/g, "\n");

/**
 * The revision that gives editable text `n` (editableTexts') the text `edited`: `chapters` by
 * index for a job made from chapters, else `text`
 * @param {JobSource} source
 * @param {number} n
 * @param {string} edited
 * @returns {Wanted}
 */
export function textRevision(source, n, edited) {
  if (!edited.trim()) return { body: null, problem: "The text cannot be empty." };
  if (!textChanged(editableTexts(source)[n].text, edited)) return { body: null, problem: "Nothing is changed: edit the text, then Check." };
  return { body: source.chapters ? { chapters: { [n]: edited } } : { text: edited }, problem: null };
}

/** @param {string} text */
const flat = (text) => text.trim().replace(/\s+/g, " ");
/** @param {string} text */
const short = (text) => (flat(text).length > 90 ? `${flat(text).slice(0, 89).trimEnd()}…` : flat(text));

/**
 * The first `limit` changed parts: where ("Chapter 1 (One), part 1") and what each says, as runs:
 * its text when it is written as before (a word said differently), else the words kept (a long
 * run's middle left out) and [before, after] where they changed
 * @param {RevisionPlan["changes"]} changes
 * @param {string[] | null} chapters the job's chapter titles
 * @returns {{places: {where: string, runs: (string | string[])[]}[], more: number}} more: how many are not listed
 */
export function changedPlaces(changes, chapters, limit = 5) {
  const places = changes.slice(0, limit).map(({ index, chapter, before, after }) => ({
    where: `${chapters?.length ? `Chapter ${chapter + 1} (${chapters[chapter]}), part` : "Part"} ${index + 1}`,
    runs: flat(before) === flat(after) ? [short(after)] : wordDiff(before, after).map((run) => (run.same
      ? (run.words.length > 8 ? [...run.words.slice(0, 3), "…", ...run.words.slice(-3)] : run.words).join(" ")
      : [short(run.written.join(" ")), short(run.spoken.join(" "))])),
  }));
  return { places, more: Math.max(0, changes.length - limit) };
}

/**
 * A page of jobs (newest first) with each book's revisions together, linked by `revision_of`
 * within the page: a book sits where its newest revision is, its earlier ones (`older`) after
 * it. label: "" for a book never revised, else "revision n", counted from the book's first
 * when the page has it ("revision" when not)
 * @template {Pick<Job, "id" | "revision_of">} J
 * @param {J[]} jobs
 * @returns {{job: J, label: string, older: boolean}[]}
 */
export function groupRevisions(jobs) {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  /** @type {Map<string, J[]>} the id of the book's first revision in the page -> its revisions */
  const books = new Map();
  for (const job of jobs) {
    let first = job;
    const seen = new Set([job.id]);
    for (let earlier = byId.get(first.revision_of ?? ""); earlier && !seen.has(earlier.id); earlier = byId.get(first.revision_of ?? "")) {
      seen.add(earlier.id);
      first = earlier;
    }
    books.set(first.id, [...(books.get(first.id) ?? []), job]);
  }
  return [...books.values()].flatMap((revisions) => {
    const counted = !revisions[revisions.length - 1].revision_of;
    return revisions.map((job, n) => ({
      job,
      older: n > 0,
      label: revisions.length === 1 && !job.revision_of ? "" : counted ? `revision ${revisions.length - n}` : "revision",
    }));
  });
}
