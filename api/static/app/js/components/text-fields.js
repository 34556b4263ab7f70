// @ts-check
// The new-book form's text: pasted, or book files dropped or chosen (one a book, several a
// batch, each keeping its own title and author), and the title and author.

import { h } from "../dom.js";
import { createFileDrop } from "./file-drop.js";
import { field } from "./field.js";

/** @param {{onFilesChange: () => void}} handlers onFilesChange: files were added or removed */
export function createTextFields({ onFilesChange }) {
  const text = h("textarea", {
    id: "field-text", name: "text", rows: "10", "aria-describedby": "text-hint error-text",
    placeholder: "Paste the text to read aloud…",
  });
  const title = h("input", { id: "field-title", name: "title", maxlength: "500", autocomplete: "off", "aria-describedby": "title-hint error-title" });
  const titleHint = h("p", { class: "hint", id: "title-hint" });
  const author = h("input", { id: "field-author", name: "author", maxlength: "500", autocomplete: "off", "aria-describedby": "error-author" });
  const files = createFileDrop({
    onChange: (chosen) => {
      onFilesChange();
      text.disabled = chosen.length > 0;
      const several = chosen.length > 1;
      title.disabled = several;
      author.disabled = several;
      titleHint.textContent = several ? "Each book of a batch keeps its own title and author." : "";
    },
  });

  const element = h("div", { class: "card" },
    h("h2", {}, "The text"),
    field("text", "Paste text", text,
      h("p", { class: "hint", id: "text-hint" }, "Or drop book files below: they are read instead of this box.")),
    files.element,
    h("div", { class: "two-columns" },
      field("title", "Title", title, titleHint),
      field("author", "Author", author)));

  return {
    element,
    files: () => files.files(),
    text: () => text.value,
    /** @returns {{title?: string, author?: string}} those given, for one book */
    labels() {
      /** @type {{title?: string, author?: string}} */
      const values = {};
      if (!title.disabled && title.value.trim()) values.title = title.value.trim();
      if (!author.disabled && author.value.trim()) values.author = author.value.trim();
      return values;
    },
  };
}
