// @ts-check
// The library's toolbar: which status to show, and a line that says when the list was last
// read (or what went wrong).

import { h } from "../dom.js";
import { STATUS_LABELS } from "../format.js";

export function createLibraryToolbar() {
  const filter = h("select", { id: "status-filter" },
    h("option", { value: "" }, "All"),
    Object.entries(STATUS_LABELS).map(([value, label]) => h("option", { value }, label)));
  const state = h("p", { class: "muted", id: "library-state", role: "status" }, "Loading…");
  const element = h("div", { class: "row toolbar" }, h("label", { for: "status-filter" }, "Show"), filter, state);
  return {
    element,
    filter,
    /** The status chosen; undefined for all */
    status: () => filter.value || undefined,
    /** @param {string} text */
    say: (text) => {
      state.textContent = text;
    },
  };
}
