// @ts-check
import { h } from "../dom.js";
import { STATUS_LABELS } from "../format.js";

/** @param {import("../types.js").JobStatus} status */
export function statusBadge(status) {
  return h("span", { class: `status status-${status}`, dataset: { status } }, STATUS_LABELS[status] || status);
}
