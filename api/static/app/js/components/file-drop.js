// @ts-check
// Book files by drop or by picker (those the API reads). One file becomes a job, several a batch.

import { bytes } from "../format.js";
import { h } from "../dom.js";

const ACCEPTED = [".txt", ".md", ".epub", ".pdf", ".docx", ".html", ".htm", ".fb2"];

/**
 * @param {{onChange: (files: File[]) => void}} handlers onChange: with every file chosen now
 */
export function createFileDrop({ onChange }) {
  /** @type {File[]} */
  let files = [];
  const input = h("input", {
    type: "file", id: "field-files", name: "files", multiple: true, accept: ACCEPTED.join(","),
    class: "visually-hidden", "aria-describedby": "files-hint error-files",
  });
  const list = h("ul", { class: "file-list", "aria-label": "Chosen files" });
  const zone = h("div", { class: "drop-zone", id: "drop-zone" },
    h("label", { for: "field-files", class: "drop-label" },
      h("strong", {}, "Drop book files here"), " or ", h("span", { class: "link-like" }, "choose files")),
    h("p", { class: "hint", id: "files-hint" }, "Text (.txt, .md), EPUB, PDF, Word (.docx), HTML or FB2. Several files make a batch."));

  /** @param {File[]} next */
  function set(next) {
    files = next;
    list.replaceChildren(...files.map((file, n) => h("li", {},
      h("span", { class: "file-name" }, file.name), " ",
      h("span", { class: "muted" }, bytes(file.size)), " ",
      h("button", { type: "button", class: "secondary small", "aria-label": `Remove ${file.name}`,
        onclick: () => set(files.filter((_, i) => i !== n)) }, "Remove"))));
    onChange(files);
  }

  /** @param {File[]} incoming */
  function add(incoming) {
    // The API says which files it cannot read; this only keeps out the obvious mistakes
    const known = new Set(files.map((file) => `${file.name}:${file.size}`));
    set([...files, ...incoming.filter((file) => !known.has(`${file.name}:${file.size}`))]);
  }

  input.addEventListener("change", () => {
    add([...(input.files || [])]);
    input.value = "";
  });
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    add([...(event.dataTransfer?.files || [])]);
  });

  const element = h("div", { class: "field", id: "field-files-wrap" },
    input, zone, list, h("p", { class: "field-error", id: "error-files", role: "alert" }));
  return { element, files: () => files, clear: () => set([]) };
}
