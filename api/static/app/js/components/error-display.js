// @ts-check
// Shows an API 4xx on the form it sits in: each message in its field's slot (#error-{field})
// with the control marked invalid, the rest here at the form's foot; focus goes to the first.

import { h } from "../dom.js";
import { fieldErrors } from "../form-errors.js";

/** @param {Set<string>} fields the form's fields: each has #field-{name} and #error-{name} */
export function createErrorDisplay(fields) {
  const element = h("div", { class: "form-error", id: "form-error", role: "alert" });
  const form = () => /** @type {HTMLFormElement} */ (element.closest("form"));

  function clear() {
    element.replaceChildren();
    for (const slot of form().querySelectorAll(".field-error")) slot.textContent = "";
    for (const input of form().querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  /**
   * @param {import("../api.js").ApiError} error
   * @param {{hasFiles: boolean}} sent whether files were sent (rather than text)
   */
  function show(error, { hasFiles }) {
    /** @type {(HTMLElement & {disabled?: boolean}) | null} */
    let first = null;
    for (const { field, message } of fieldErrors(error, fields, { hasFiles })) {
      const slot = field && form().querySelector(`#error-${field}`);
      if (!slot) {
        element.append(h("p", {}, message));
        first ||= element;
        continue;
      }
      slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      /** @type {HTMLElement | null} */
      const input = form().querySelector(`#field-${field}`);
      input?.setAttribute("aria-invalid", "true");
      // The voice picker is a group: focus its chosen voice
      first ||= field === "voice" ? form().querySelector("input[name=voice]:checked") || input : input;
    }
    if (first === element) element.setAttribute("tabindex", "-1");
    if (first && !first.disabled) first.focus();
    else first?.scrollIntoView({ block: "center" });
  }

  return { element, clear, show };
}
