// The sentence subtitles the read-along follows (parseVtt in
// api/static/app/js/components/read-along.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { parseVtt } from "../../api/static/app/js/components/read-along.js";

test("a WEBVTT file's cues: times in seconds, lines of a cue joined", () => {
  const vtt = "WEBVTT\r\n\r\n1\r\n00:00:00.000 --> 00:00:02.500\r\nThe sea\r\nwas calm.\r\n\r\n"
    + "2\n01:02:03.250 --> 01:02:04.000 align:start\nThe end.\n";
  assert.deepEqual(parseVtt(vtt), [
    { start: 0, end: 2.5, text: "The sea was calm." },
    { start: 3723.25, end: 3724, text: "The end." },
  ]);
});

test("minutes and seconds alone are read too; blocks without times are skipped", () => {
  assert.deepEqual(parseVtt("WEBVTT\n\nNOTE a comment\n\n01:05.500 --> 01:06.000\nHi.\n"), [
    { start: 65.5, end: 66, text: "Hi." },
  ]);
});
