// The /v1 URLs the app's players and download links use (api/static/app/js/api.js): ids and
// blend specs are escaped into their path segment.

import assert from "node:assert/strict";
import { test } from "node:test";

import { links } from "../../api/static/app/js/api.js";

test("a job's media URLs", () => {
  assert.equal(links.audio("j1"), "/v1/jobs/j1/audio");
  assert.equal(links.stream("j1"), "/v1/jobs/j1/stream?format=mp3");
  assert.equal(links.subtitles("j1", "srt"), "/v1/jobs/j1/subtitles?format=srt&level=sentence");
  assert.equal(links.subtitles("j1", "vtt", "word"), "/v1/jobs/j1/subtitles?format=vtt&level=word");
});

test("an id or a blend cannot leave its path segment", () => {
  assert.equal(links.audio("../x?y"), "/v1/jobs/..%2Fx%3Fy/audio");
  assert.equal(links.sample("af_bella:0.7,am_adam:0.3"), "/v1/voices/af_bella%3A0.7%2Cam_adam%3A0.3/sample?format=mp3");
});
