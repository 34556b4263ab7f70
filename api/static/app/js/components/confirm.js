// @ts-check
// Asks before something that cannot be undone, in a modal <dialog> (focus is kept inside and
// Escape cancels, as the browser does for modal dialogs).

import { h } from "../dom.js";

/**
 * Resolves with whether the person confirmed
 * @param {{title: string, message: string, confirm?: string}} question confirm: the button's word
 * @returns {Promise<boolean>}
 */
export function confirmAction({ title, message, confirm = "Delete" }) {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
      h("form", { method: "dialog" },
        h("h2", { id: "confirm-title" }, title),
        h("p", {}, message),
        h("div", { class: "row end" },
          h("button", { value: "cancel", class: "secondary", autofocus: true }, "Keep it"),
          h("button", { value: "confirm", class: "danger", id: "confirm-yes" }, confirm))));
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
