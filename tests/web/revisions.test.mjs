// Revisions in words and shapes (api/static/app/js/revisions.js): a word fix's and a chapter
// edit's body, the parts a revision makes or reused, where its changes are and what changed,
// and a library page's books with their revisions together.

import assert from "node:assert/strict";
import { test } from "node:test";

import { count } from "../../api/static/app/js/format.js";
import {
  bareWord,
  changedPlaces,
  editableTexts,
  groupRevisions,
  partsReused,
  partsToMake,
  pronunciationRevision,
  textChanged,
  textRevision,
} from "../../api/static/app/js/revisions.js";

test("a picked word loses the punctuation around it, not inside it", () => {
  assert.equal(bareWord("station."), "station");
  assert.equal(bareWord("“Hermione,”"), "Hermione");
  assert.equal(bareWord(" Hermione's "), "Hermione's");
  assert.equal(bareWord("well-known;"), "well-known");
  assert.equal(bareWord("Zoë!"), "Zoë");
  assert.equal(bareWord("..."), "");
});

test("a respelling or IPA becomes the revision's one pronunciation", () => {
  assert.deepEqual(pronunciationRevision(" Hermione ", "say", " her-MY-oh-nee "), {
    body: { pronunciations: { Hermione: { say: "her-MY-oh-nee" } } },
    problem: null,
  });
  assert.deepEqual(pronunciationRevision("Hermione", "phonemes", "hɜːmˈaɪəni").body, {
    pronunciations: { Hermione: { phonemes: "hɜːmˈaɪəni" } },
  });
});

test("IPA typed between slashes or brackets is sent without them", () => {
  for (const typed of ["/hɜːmˈaɪəni/", "[hɜːmˈaɪəni]", " / hɜːmˈaɪəni / "]) {
    assert.deepEqual(pronunciationRevision("Hermione", "phonemes", typed).body?.pronunciations, {
      Hermione: { phonemes: "hɜːmˈaɪəni" },
    });
  }
  // A respelling is said as typed: a slash in it is the person's
  assert.deepEqual(pronunciationRevision("and", "say", "/and/").body?.pronunciations, { and: { say: "/and/" } });
});

test("a missing word or spelling says what to type, and sends nothing", () => {
  assert.deepEqual(pronunciationRevision("  ", "say", "x"), { body: null, problem: "Type the word to fix." });
  const say = pronunciationRevision("Hermione", "say", " ");
  assert.equal(say.body, null);
  assert.match(say.problem, /^Type how to say “Hermione”: a respelling, such as her-MY-oh-nee\.$/);
  assert.match(pronunciationRevision("Hermione", "phonemes", "//").problem, /its IPA/);
});

test("numbers are counted with thousands separated", () => {
  assert.equal(count(0), "0");
  assert.equal(count(1258), "1,258");
  assert.equal(count(1234567), "1,234,567");
});

test("a plan says how many parts will be made again", () => {
  assert.equal(partsToMake({ chunks_to_make: 1, chunks_total: 4 }), "1 of 4 parts will be made again.");
  assert.equal(partsToMake({ chunks_to_make: 3, chunks_total: 1258 }), "3 of 1,258 parts will be made again.");
  assert.equal(
    partsToMake({ chunks_to_make: 0, chunks_total: 12 }),
    "0 of 12 parts will be made again: nothing would change, so there is nothing to make.",
  );
});

test("a revision says how much of it was reused", () => {
  assert.equal(partsReused({ chunks_reused: 1256, chunks_to_make: 2 }), "1,256 of 1,258 parts reused");
  assert.equal(partsReused({ chunks_reused: 0, chunks_to_make: 5 }), "0 of 5 parts reused");
});

test("changed parts are placed by chapter and part, a part written as before by its text cut short", () => {
  const long = "word ".repeat(40);
  const changes = [
    { index: 0, chapter: 0, before: "Hermione walked\nto the station.", after: "Hermione  walked to the station. " },
    { index: 4, chapter: 1, before: long, after: long },
  ];
  const { places, more } = changedPlaces(changes, ["One", "Two"]);
  assert.deepEqual(places[0], { where: "Chapter 1 (One), part 1", runs: ["Hermione walked to the station."] });
  assert.equal(places[1].where, "Chapter 2 (Two), part 5");
  assert.ok(places[1].runs[0].endsWith("…") && places[1].runs[0].length === 90, places[1].runs[0]);
  assert.equal(more, 0);
  assert.deepEqual(changedPlaces(changes, null, 1), {
    places: [{ where: "Part 1", runs: ["Hermione walked to the station."] }],
    more: 1,
  });
});

test("a part whose words changed shows them before and after, the long runs kept shortened", () => {
  const before = "one two three four five six seven eight nine ten the grey cat sat.";
  const after = "one two three four five six seven eight nine ten the red cat sat down.";
  const [place] = changedPlaces([{ index: 2, chapter: 0, before, after }], null).places;
  assert.deepEqual(place.runs, ["one two three … nine ten the", ["grey", "red"], "cat", ["sat.", "sat down."]]);
  // Past the first 90 characters too
  const long = "word ".repeat(30);
  assert.deepEqual(changedPlaces([{ index: 0, chapter: 0, before: `${long}end.`, after: `${long}stop.` }], null).places[0].runs,
    ["word word word … word word word", ["end.", "stop."]]);
  // A part that is new has nothing before it
  assert.deepEqual(changedPlaces([{ index: 0, chapter: 0, before: "", after: "New." }], null).places[0].runs, [["", "New."]]);
});

const chapterSource = {
  text: null,
  chapters: [{ title: "One", text: "First.\n\nMore.", voice: null }, { title: null, text: "Second.", voice: "am_adam" }],
  pronunciations: null,
  markup: "none",
};
const textSource = { text: "The whole text.", chapters: null, pronunciations: null, markup: "none" };

test("what can be edited: a job's chapters by number and title, or its one text", () => {
  assert.deepEqual(editableTexts(chapterSource), [
    { label: "1. One", text: "First.\n\nMore." },
    { label: "2. Untitled", text: "Second." },
  ]);
  assert.deepEqual(editableTexts(textSource), [{ label: "The text", text: "The whole text." }]);
});

test("a text is changed by what it says, not by the line ends a textarea gives back", () => {
  assert.equal(textChanged("a\r\nb", "a\nb"), false);
  assert.equal(textChanged("a\rb", "a\nb"), false);
  assert.equal(textChanged("a b", "a  b"), true);
  assert.equal(textChanged("a", "a "), true);
});

test("an edited chapter is sent by its index from 0; a job made from text gets the whole text", () => {
  assert.deepEqual(textRevision(chapterSource, 1, "Second, edited."), {
    body: { chapters: { 1: "Second, edited." } },
    problem: null,
  });
  assert.deepEqual(Object.keys(textRevision(chapterSource, 0, "x").body?.chapters ?? {}), ["0"]);
  assert.deepEqual(textRevision(textSource, 0, "A new text."), { body: { text: "A new text." }, problem: null });
});

test("an unchanged or empty text says so, and sends nothing", () => {
  assert.equal(textRevision(chapterSource, 0, "First.\r\n\r\nMore.").body, null);
  assert.match(textRevision(textSource, 0, "The whole text.").problem ?? "", /Nothing is changed/);
  assert.match(textRevision(textSource, 0, "  \n").problem ?? "", /cannot be empty/);
});

const job = (id, revisionOf = null) => ({ id, revision_of: revisionOf });
const shown = (entries) => entries.map(({ job: { id }, label, older }) => [id, label, older]);

test("books never revised are listed as they came", () => {
  assert.deepEqual(shown(groupRevisions([job("c"), job("b"), job("a")])), [
    ["c", "", false], ["b", "", false], ["a", "", false],
  ]);
});

test("a book's revisions sit together where its newest is, numbered from its first", () => {
  // newest first, as the library lists: a3 revises a2, which revises a1; b stands between
  const jobs = [job("a3", "a2"), job("b"), job("a2", "a1"), job("a1")];
  assert.deepEqual(shown(groupRevisions(jobs)), [
    ["a3", "revision 3", false],
    ["a2", "revision 2", true],
    ["a1", "revision 1", true],
    ["b", "", false],
  ]);
});

test("two revisions of one job are one book", () => {
  const jobs = [job("y", "x"), job("z", "x"), job("x")];
  assert.deepEqual(shown(groupRevisions(jobs)), [["y", "revision 3", false], ["z", "revision 2", true], ["x", "revision 1", true]]);
});

test("a revision whose earlier ones are on another page is a revision, unnumbered", () => {
  assert.deepEqual(shown(groupRevisions([job("n"), job("r3", "r2"), job("r2", "r1")])), [
    ["n", "", false],
    ["r3", "revision", false],
    ["r2", "revision", true],
  ]);
  assert.deepEqual(shown(groupRevisions([job("r9", "gone")])), [["r9", "revision", false]]);
});

test("a loop of revision_of (never made by the API) does not hang the library", () => {
  assert.equal(groupRevisions([job("p", "q"), job("q", "p")]).length, 2);
});
