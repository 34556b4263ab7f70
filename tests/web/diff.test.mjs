// The word-by-word difference between written and spoken text that the preview marks
// (api/static/app/js/diff.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { wordDiff } from "../../api/static/app/js/diff.js";

test("text said as written is one unchanged run", () => {
  assert.deepEqual(wordDiff("The sea is calm.", "The  sea is\ncalm."), [
    { same: true, words: ["The", "sea", "is", "calm."] },
  ]);
});

test("a number said in words is one changed run between unchanged ones", () => {
  assert.deepEqual(wordDiff("He paid $40 today.", "He paid forty dollars today."), [
    { same: true, words: ["He", "paid"] },
    { same: false, written: ["$40"], spoken: ["forty", "dollars"] },
    { same: true, words: ["today."] },
  ]);
});

test("words dropped or added when spoken are changed runs with one side empty", () => {
  assert.deepEqual(wordDiff("See [1] below.", "See below."), [
    { same: true, words: ["See"] },
    { same: false, written: ["[1]"], spoken: [] },
    { same: true, words: ["below."] },
  ]);
  assert.deepEqual(wordDiff("Dr. Smith", "Doctor Smith"), [
    { same: false, written: ["Dr."], spoken: ["Doctor"] },
    { same: true, words: ["Smith"] },
  ]);
});

test("every word of both sides is in the runs, in order", () => {
  const written = "On 4 July 1921 Dr. Smith paid $40 for 3 kg of tea";
  const spoken = "On the fourth of July nineteen twenty-one Doctor Smith paid forty dollars for three kilograms of tea";
  const runs = wordDiff(written, spoken);
  const writtenBack = runs.flatMap((run) => (run.same ? run.words : run.written));
  const spokenBack = runs.flatMap((run) => (run.same ? run.words : run.spoken));
  assert.equal(writtenBack.join(" "), written);
  assert.equal(spokenBack.join(" "), spoken);
});

test("empty text gives no runs", () => {
  assert.deepEqual(wordDiff("", ""), []);
  assert.deepEqual(wordDiff("", "added"), [{ same: false, written: [], spoken: ["added"] }]);
});

test("past its bound the difference is the whole text, not a table of every pair of words", () => {
  const words = Array.from({ length: 1000 }, (_, n) => `w${n}`).join(" ");
  assert.deepEqual(wordDiff(words, words), [{ same: true, words: words.split(" ") }]);
  const changed = wordDiff(words, `${words} more`);
  assert.equal(changed.length, 1);
  assert.equal(changed[0].same, false);
});
