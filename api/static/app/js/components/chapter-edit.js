// @ts-check
// "Edit a chapter": a chapter's written text as the job was made from it (or the one text of a
// job made from text), fetched when opened, edited, then Check and Re-make (remake.js).

import { api } from "../api.js";
import { h } from "../dom.js";
import { editableTexts, textRevision } from "../revisions.js";
import { createRemake } from "./remake.js";

/** @import { Job, JobSource } from "../types.js" */

/** @param {Job} job a finished job */
export function createChapterEdit(job) {
  const flow = createRemake(job, "edit");
  const body = h("div", {}, h("p", { class: "hint" }, "Loading the text…"));
  /** @type {Promise<void> | null} */
  let loading = null;

  /** @param {JobSource} source */
  function draw(source) {
    const texts = editableTexts(source);
    const choice = h("select", { id: "edit-chapter" }, texts.map(({ label }, n) => h("option", { value: n }, label)));
    const text = h("textarea", { id: "edit-text", rows: 10 });
    const show = () => { text.value = texts[Number(choice.value)].text; };
    choice.addEventListener("change", show);
    show();
    body.replaceChildren(h("form", {
      oninput: flow.reset,
      onsubmit: (/** @type {SubmitEvent} */ event) => {
        event.preventDefault();
        flow.run(textRevision(source, Number(choice.value), text.value));
      },
    },
    h("div", { class: "field", hidden: !source.chapters }, h("label", { for: choice.id }, "Chapter"), choice),
    h("div", { class: "field" }, h("label", { for: text.id }, "Written text"), text),
    flow.problem, flow.plan, h("div", { class: "row end" }, flow.check, flow.remake)));
  }

  return h("details", {
    id: "chapter-edit",
    ontoggle: () => {
      loading ??= api.source(job.id).then(draw, (error) => { body.replaceChildren(h("p", { class: "error-text", role: "alert" }, error.message)); });
    },
  }, h("summary", {}, "Edit a chapter"), body);
}
