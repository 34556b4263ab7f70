// @ts-check
// A labelled form field: its label, its control, any hints, and the slot its error is shown in
// (#error-{name}: the error display fills it from the API's answer).

import { h } from "../dom.js";

/** @typedef {import("../dom.js").Child} Child */

/**
 * @param {string} name the API's name of the field
 * @param {Child} label
 * @param {HTMLElement} control labelled by its id
 * @param {...Child} hints
 */
export function field(name, label, control, ...hints) {
  return h("div", { class: "field" },
    h("label", { for: control.id }, label), control, hints,
    h("p", { class: "field-error", id: `error-${name}`, role: "alert" }));
}
