// What the browser remembers per job: which part starts which chapter, so progress can count
// chapters done (api/static/app/js/local-memory.js), on a stand-in for localStorage.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import {
  chaptersDone,
  forgetJob,
  rememberChapterStarts,
  startsFromPreview,
} from "../../api/static/app/js/local-memory.js";

beforeEach(() => {
  const items = new Map();
  globalThis.localStorage = {
    getItem: (name) => (items.has(name) ? items.get(name) : null),
    setItem: (name, value) => items.set(name, String(value)),
  };
});

const chunk = (index, chapter) => ({ index, chapter });
const job = (status, chapters) => ({
  id: "j1",
  status,
  chapters,
  progress: { chunks_done: 0, chunks_total: 6, chars_done: 0, chars_total: 0, percent: 0 },
});

test("a preview's chapters start at the first part of each", () => {
  const preview = { chunks: [chunk(0, 0), chunk(1, 0), chunk(2, 1), chunk(3, 2), chunk(4, 2), chunk(5, 2)] };
  assert.deepEqual(startsFromPreview(preview), [0, 2, 3]);
});

test("a chapter is done when every part of it is", () => {
  rememberChapterStarts("j1", [0, 2, 3]);
  const running = job("running", ["One", "Two", "Three"]);
  assert.equal(chaptersDone(running, new Set([0, 1, 3])), 1);
  assert.equal(chaptersDone(running, new Set([0, 1, 2, 3, 4])), 2);
  assert.equal(chaptersDone(running, new Set([0, 1, 2, 3, 4, 5])), 3);
});

test("chapters done are unknown without the starts, or with other chapters than the job's", () => {
  const running = job("running", ["One", "Two", "Three"]);
  assert.equal(chaptersDone(running, new Set([0])), null);
  rememberChapterStarts("j1", [0, 3]);
  assert.equal(chaptersDone(running, new Set([0])), null);
  forgetJob("j1");
  assert.equal(chaptersDone(job("succeeded", ["One", "Two", "Three"])), 3);
  assert.equal(chaptersDone(job("running", null), new Set()), null);
});
