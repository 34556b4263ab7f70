// @ts-check
// Newer / older buttons over a cursor-paged list (GET /v1/jobs): the API gives the next page's
// cursor only, so the cursor of each page seen is kept for going back.

import { h } from "../dom.js";

/** @param {{onMove: () => void}} handlers onMove: the page changed; read it */
export function createCursorPager({ onMove }) {
  const newer = h("button", { type: "button", class: "secondary", id: "page-newer" }, "← Newer");
  const older = h("button", { type: "button", class: "secondary", id: "page-older" }, "Older →");
  const element = h("nav", { class: "row pager", "aria-label": "Pages" }, newer, older);
  /** @type {(string | null)[]} */
  const cursors = [null];
  let page = 0;
  /** @type {string | null} */
  let nextCursor = null;

  older.addEventListener("click", () => {
    if (!nextCursor) return;
    cursors[page + 1] = nextCursor;
    page += 1;
    onMove();
  });
  newer.addEventListener("click", () => {
    if (page === 0) return;
    page -= 1;
    onMove();
  });

  return {
    element,
    page: () => page,
    cursor: () => cursors[page],
    /** Back to the first page */
    reset() {
      cursors.length = 1;
      page = 0;
    },
    /** @param {string | null} next the cursor of the page after the one shown; null on the last */
    update(next) {
      nextCursor = next;
      newer.disabled = page === 0;
      older.disabled = !nextCursor;
      element.hidden = page === 0 && !nextCursor;
    },
  };
}
