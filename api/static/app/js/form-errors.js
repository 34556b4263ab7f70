// @ts-check
// Puts the API's 4xx answers next to the form field they are about. A 422 for invalid fields
// says where in `loc`; other answers are sentences, matched to a field by what they name.

import { detailText } from "./api.js";

// Sentences from the API (docs/api.md, "Bad input") and the field each is about, first match
/** @type {[RegExp, string][]} */
const SENTENCE_FIELDS = [
  [/\bvoices?\b|\bblend\b/i, "voice"],
  [/\bspeed\b/i, "speed"],
  [/\bformat\b/i, "format"],
  [/\blang\b|\blanguage\b/i, "lang"],
  [/\bauthor\b/i, "author"],
  [/\btitle\b/i, "title"],
  [/\bfile\b|\bepub\b|\.txt|\.md|\bupload|multipart|UTF-8|binary/i, "files"],
  [/\btext\b|characters|speakable|chapters?\b|markup/i, "text"],
];

/** @type {Record<string, string>} */
const LOC_FIELDS = { chapters: "text", file: "files", jobs: "files" };

/** @typedef {{field: string | null, message: string}} FieldError */

/**
 * [{field, message}] for an ApiError; field null when it is about the whole form
 * @param {{status?: number, detail?: import("./types.js").Detail, message: string}} error
 * @param {Set<string>} fields the form's fields
 * @param {{hasFiles?: boolean}} [form] whether files were sent (rather than text)
 * @returns {FieldError[]}
 */
export function fieldErrors(error, fields, { hasFiles = false } = {}) {
  const { status, detail } = error;
  if (Array.isArray(detail)) {
    return detail.map((issue) => ({ field: locField(issue.loc || [], fields), message: issue.msg }));
  }
  const message = detailText(detail) || error.message;
  if (status === 413) return [{ field: hasFiles ? "files" : "text", message }];
  if (status === 415) return [{ field: "files", message }];
  if (status === 422 || status === 400) {
    const match = SENTENCE_FIELDS.find(([pattern, field]) => fields.has(field) && pattern.test(message));
    return [{ field: match ? match[1] : null, message }];
  }
  return [{ field: null, message: plainStatus(status, message) }];
}

/**
 * @param {(string | number)[]} loc
 * @param {Set<string>} fields
 */
function locField(loc, fields) {
  for (const part of [...loc].reverse()) {
    if (typeof part !== "string") continue;
    const field = LOC_FIELDS[part] || part;
    if (fields.has(field)) return field;
  }
  return null;
}

/**
 * @param {number | undefined} status
 * @param {string} message
 */
function plainStatus(status, message) {
  if (status === 429) return `You have as many unfinished books as your key allows. ${message}`;
  if (status === 503) return `The service is busy or its queue is unreachable; try again shortly. ${message}`;
  return message;
}
