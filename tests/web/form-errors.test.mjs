// An API 4xx put next to the form field it is about (api/static/app/js/form-errors.js).

import assert from "node:assert/strict";
import { test } from "node:test";

import { ApiError, detailText } from "../../api/static/app/js/api.js";
import { fieldErrors } from "../../api/static/app/js/form-errors.js";

const FIELDS = new Set(["text", "files", "title", "author", "voice", "speed", "format", "lang", "loudness"]);

test("a 422's issues go to the field their loc names; chapters are the text, file the files", () => {
  const error = new ApiError(422, [
    { type: "less_than_equal", loc: ["body", "speed"], msg: "Input should be less than or equal to 2" },
    { type: "value_error", loc: ["body", "chapters", 0, "text"], msg: "nothing to say" },
    { type: "value_error", loc: ["body", "file"], msg: "unreadable" },
    { type: "missing", loc: ["body", "priority"], msg: "not a field of the form" },
  ]);
  assert.deepEqual(fieldErrors(error, FIELDS), [
    { field: "speed", message: "Input should be less than or equal to 2" },
    { field: "text", message: "nothing to say" },
    { field: "files", message: "unreadable" },
    { field: null, message: "not a field of the form" },
  ]);
});

test("a sentence goes to the field it names, first match", () => {
  const about = (detail) => fieldErrors(new ApiError(422, detail), FIELDS)[0].field;
  assert.equal(about("unknown voice 'zz_nobody'"), "voice");
  assert.equal(about("format must be one of m4b, mp3"), "format");
  assert.equal(about("lang 'xx' is not supported"), "lang");
  assert.equal(about("the text has no speakable characters"), "text");
  assert.equal(about("the .epub could not be read"), "files");
  assert.equal(about("something else entirely"), null);
});

test("a body too large is the files' or the text's fault, by what was sent", () => {
  const error = new ApiError(413, "the body is larger than 10 MB");
  assert.equal(fieldErrors(error, FIELDS, { hasFiles: true })[0].field, "files");
  assert.equal(fieldErrors(error, FIELDS)[0].field, "text");
  assert.equal(fieldErrors(new ApiError(415, "not a book file"), FIELDS)[0].field, "files");
});

test("a busy or full service says so in plain words, for the whole form", () => {
  const [busy] = fieldErrors(new ApiError(503, "the queue is unreachable"), FIELDS);
  assert.equal(busy.field, null);
  assert.match(busy.message, /^The service is busy .* the queue is unreachable$/);
  const [full] = fieldErrors(new ApiError(429, "3 unfinished jobs"), FIELDS);
  assert.match(full.message, /as many unfinished books as your key allows/);
});

test("an ApiError's message is its detail in words, or the status", () => {
  assert.equal(detailText("a sentence"), "a sentence");
  assert.equal(detailText([{ msg: "one" }, { msg: "two" }]), "one; two");
  assert.equal(detailText(null), "");
  assert.equal(new ApiError(500, null).message, "the server answered 500");
  assert.equal(new ApiError(400, [{ msg: "bad" }]).status, 400);
});
