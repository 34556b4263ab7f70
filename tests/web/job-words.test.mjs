// How a job's progress and a failed job's error read in words
// (api/static/app/js/components/job-progress.js, api/static/app/js/views/job.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { describe } from "../../api/static/app/js/components/job-progress.js";
import { plainError } from "../../api/static/app/js/views/job.js";

const progress = (done, total) => ({ chunks_done: done, chunks_total: total, chars_done: 0, chars_total: 0, percent: 0 });

test("a running job says its parts done and the time left", () => {
  const job = { id: "j", status: "running", chapters: null, progress: progress(3, 10), eta_seconds: 95 };
  assert.equal(describe(job, 30.7), "30 % · 3 of 10 parts · about 1 min 35 s left");
});

test("a running job with every part done is being put together", () => {
  const job = { id: "j", status: "running", chapters: null, progress: progress(10, 10), eta_seconds: 0 };
  assert.equal(describe(job, 100), "100 % · 10 of 10 parts · putting the file together");
});

test("a finished job says its state and its chapters", () => {
  const job = { id: "j", status: "succeeded", chapters: ["A", "B"], progress: progress(4, 4), eta_seconds: null };
  assert.equal(describe(job, 100), "100 % · 4 of 4 parts · 2 of 2 chapters · Ready");
});

test("a failed job's error is said for a person", () => {
  assert.equal(plainError("chunk 4 failed: worker was lost"), "The worker reading part 5 stopped, and retrying did not help.");
  assert.equal(plainError("chunk 0 failed: soft time limit exceeded"), "Part 1 took too long to read.");
  assert.equal(plainError("chunk 2 failed: boom"), "Part 3 of the text could not be read aloud.");
  assert.equal(plainError("Error 111 connecting to redis"), "The job could not be handed to the workers: the queue was unreachable.");
  assert.equal(plainError("assembling failed"), "Every part was read, but putting them together into one file failed.");
  assert.equal(plainError(null), "Something went wrong while it was being made.");
});
