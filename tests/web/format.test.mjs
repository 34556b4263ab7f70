// How numbers, times and states read in the web app (api/static/app/js/format.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  bytes,
  clock,
  dateTime,
  duration,
  fileStem,
  isActive,
  jobTitle,
  STATUS_LABELS,
} from "../../api/static/app/js/format.js";

test("a duration reads in hours and minutes, minutes and seconds, or seconds", () => {
  assert.equal(duration(42), "42 s");
  assert.equal(duration(187), "3 min 07 s");
  assert.equal(duration(3720), "1 h 02 min");
  assert.equal(duration(59.6), "1 min 00 s"); // rounded to the second first
  assert.equal(duration(0), "0 s");
  assert.equal(duration(-5), "0 s");
});

test("an unknown duration is a dash", () => {
  for (const unknown of [null, undefined, NaN, Infinity]) assert.equal(duration(unknown), "—");
});

test("a position in the audio reads as players show it", () => {
  assert.equal(clock(0), "0:00");
  assert.equal(clock(125.9), "2:05"); // whole seconds, not rounded up
  assert.equal(clock(3723), "1:02:03");
  assert.equal(clock(Number.NaN), "0:00");
  assert.equal(clock(-3), "0:00");
});

test("sizes read in B, KB or MB", () => {
  assert.equal(bytes(0), "0 B");
  assert.equal(bytes(1023), "1023 B");
  assert.equal(bytes(2048), "2 KB");
  assert.equal(bytes(1.5 * 1024 * 1024), "1.5 MB");
});

test("a timestamp reads as a date and time; none is a dash", () => {
  assert.equal(dateTime(null), "—");
  assert.equal(dateTime(""), "—");
  const shown = dateTime("2024-03-05T10:20:00Z");
  assert.match(shown, /2024/);
  assert.notEqual(shown, "—");
});

test("only queued and running jobs are active", () => {
  assert.deepEqual(
    Object.keys(STATUS_LABELS).filter((status) => isActive(status)),
    ["queued", "running"],
  );
});

test("a job without a title is named by its id", () => {
  assert.equal(jobTitle({ id: "0123456789abcdef", title: "Moby-Dick" }), "Moby-Dick");
  assert.equal(jobTitle({ id: "0123456789abcdef", title: null }), "Untitled (01234567)");
});

test("a download's file name keeps no character file systems dislike", () => {
  assert.equal(fileStem({ id: "j1", title: 'A:B"C/D\\E|F*?<>G?' }), "A B C D E F G");
  assert.equal(fileStem({ id: "j1", title: "x".repeat(300) }).length, 120);
  assert.equal(fileStem({ id: "j1", title: "\u0001/" }), "j1");
  assert.equal(fileStem({ id: "j1", title: null }), "j1");
});
