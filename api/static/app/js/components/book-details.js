// @ts-check
// The new-book form's "Book details", folded away: a cover image and the series, its number,
// year, ISBN and description. Each is sent as the job's field of that name (the cover as a
// data: URL, read when it is chosen); an EPUB's own details fill those left empty.

import { h } from "../dom.js";
import { field } from "./field.js";

const TEXT_FIELDS = ["series", "series_index", "year", "isbn", "description"];

export function createBookDetails() {
  /** @type {Record<string, HTMLInputElement | HTMLTextAreaElement>} */
  const inputs = {
    series: h("input", { id: "field-series", maxlength: "500", autocomplete: "off" }),
    series_index: h("input", { id: "field-series_index", inputmode: "decimal", maxlength: "12" }),
    year: h("input", { id: "field-year", inputmode: "numeric", maxlength: "4" }),
    isbn: h("input", { id: "field-isbn", maxlength: "40", autocomplete: "off" }),
    description: h("textarea", { id: "field-description", rows: "3", maxlength: "20000" }),
  };
  const cover = h("input", { id: "field-cover", type: "file", accept: "image/jpeg,image/png" });
  let coverUrl = "";
  cover.addEventListener("change", () => {
    coverUrl = "";
    const file = cover.files?.[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => { coverUrl = String(reader.result); };
    reader.readAsDataURL(file);
  });
  const element = h("details", { class: "card", id: "book-details" },
    h("summary", {}, "Book details"),
    h("p", { class: "hint" }, "Written into the audio file's tags with the cover. An EPUB's own fill those left empty."),
    field("cover", "Cover (JPEG or PNG, at most 5 MB)", cover),
    h("div", { class: "two-columns" },
      field("series", "Series", inputs.series),
      field("series_index", "Number in the series", inputs.series_index),
      field("year", "Year", inputs.year),
      field("isbn", "ISBN", inputs.isbn)),
    field("description", "Description", inputs.description));

  return {
    element,
    /** @returns {Record<string, string>} the details given */
    values() {
      /** @type {Record<string, string>} */
      const values = {};
      for (const name of TEXT_FIELDS) if (inputs[name].value.trim()) values[name] = inputs[name].value.trim();
      if (coverUrl) values.cover = coverUrl;
      return values;
    },
  };
}
