// @ts-check
// "Fix and re-make" on a finished book's page: pick a word in the read-along text (or type it)
// to change how it is said. Picking is a mode the person turns on, because a click in the text
// already means "play from this sentence". Below it, "Edit a chapter" (chapter-edit.js).

import { h } from "../dom.js";
import { bareWord } from "../revisions.js";
import { createChapterEdit } from "./chapter-edit.js";
import { openPronunciationDialog } from "./pronunciation-dialog.js";

/** @import { Job } from "../types.js" */

/**
 * @param {Job} job a finished job
 * @param {HTMLElement | null} text the read-along's text, whose `.word`s can be picked; null when there is none
 */
export function createWordFix(job, text) {
  const pick = h("button", { type: "button", class: "secondary", id: "fix-pick", "aria-pressed": "false", hidden: !text },
    "Pick a word in the text");
  const typed = h("input", { id: "fix-typed-word", autocomplete: "off", spellcheck: "false" });
  const status = h("p", { class: "hint", role: "status" });
  /** @type {HTMLDialogElement | null} */
  let dialog = null;

  /** @param {string} word */
  const open = (word) => {
    dialog = openPronunciationDialog(job, word);
  };

  /** @param {boolean} on */
  function picking(on) {
    pick.setAttribute("aria-pressed", String(on));
    text?.classList.toggle("picking", on);
    status.textContent = on ? "Click the word in the read-along text above." : "";
  }

  // Captured before the sentence's own click, which would move the player
  /** @param {MouseEvent} event */
  function onTextClick(event) {
    const word = /** @type {Element} */ (event.target).closest?.(".word");
    if (pick.getAttribute("aria-pressed") !== "true" || !word) return;
    event.stopPropagation();
    picking(false);
    open(bareWord(word.textContent || ""));
  }
  text?.addEventListener("click", onTextClick, { capture: true });
  pick.addEventListener("click", () => picking(pick.getAttribute("aria-pressed") !== "true"));

  const element = h("section", { class: "card", "aria-labelledby": "fix-heading", id: "word-fix" },
    h("h2", { id: "fix-heading" }, "Fix and re-make"),
    h("p", {}, "Change how a word is said, or edit a chapter. Only the parts that change are made again; the rest of the book is reused."),
    h("div", { class: "row" }, pick),
    status,
    h("form", {
      class: "row fix-typed",
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        open(bareWord(typed.value));
      },
    }, h("label", { for: typed.id }, "Or type the word"), typed, h("button", { type: "submit", class: "secondary" }, "Fix…")),
    createChapterEdit(job));

  return {
    element,
    stop() {
      text?.removeEventListener("click", onTextClick, { capture: true });
      if (dialog?.open) dialog.close();
    },
  };
}
