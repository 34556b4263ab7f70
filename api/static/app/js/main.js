// @ts-check
// Starts the app: finds out whether this server needs a key, then shows the view the address
// names, and swaps views as it changes.

import { api, onUnauthorized } from "./api.js";
import { apiKey, clearApiKey } from "./auth.js";
import { h } from "./dom.js";
import { startKeyWorker } from "./media.js";
import { currentRoute } from "./router.js";
import { renderJob } from "./views/job.js";
import { renderLibrary } from "./views/library.js";
import { renderNewJob } from "./views/new-job.js";
import { renderSignIn } from "./views/sign-in.js";

/**
 * A view draws itself into the page's <main> and returns what to do when it is left
 * @typedef {(root: HTMLElement, ...params: string[]) => (() => void) | void} View
 */

/** @type {Record<string, View>} */
const VIEWS = { new: renderNewJob, library: renderLibrary, job: renderJob };
// The page shell (index.html) has these
const main = /** @type {HTMLElement} */ (document.getElementById("main"));
const nav = /** @type {HTMLElement} */ (document.getElementById("main-nav"));
const signOut = /** @type {HTMLButtonElement} */ (document.getElementById("sign-out"));
let leaveView = () => {};
let signedIn = false;

function clearView() {
  leaveView();
  leaveView = () => {};
  main.replaceChildren();
}

/** @param {string} reason what the sign-in form says first ("" for nothing) */
function showSignIn(reason) {
  signedIn = false;
  clearView();
  nav.hidden = true;
  signOut.hidden = true;
  document.title = "Sign in — kokoro-queue";
  renderSignIn(main, { reason, onSignedIn: start });
}

function showView() {
  if (!signedIn) return;
  clearView();
  const route = currentRoute();
  for (const link of nav.querySelectorAll("a")) {
    if (link.dataset.route === route.name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const render = VIEWS[route.name];
  if (!render) {
    main.append(h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Start a new book")));
    return;
  }
  leaveView = render(main, ...route.params) || (() => {});
  // Move focus to the new view's heading, as a page load would
  main.querySelector("h1")?.focus({ preventScroll: true });
}

async function start() {
  try {
    await api.jobs({ limit: 1 }); // any /v1 route says whether a key is needed
  } catch (error) {
    if (error.status === 401) return showSignIn(apiKey() ? "That key is no longer accepted." : "");
    clearView();
    main.append(
      h("h1", { tabindex: "-1" }, "The service cannot be used from here"),
      h("p", { class: "error-text" }, error.message),
    );
    return;
  }
  signedIn = true;
  nav.hidden = false;
  signOut.hidden = !apiKey();
  showView();
}

onUnauthorized(() => {
  if (signedIn) showSignIn("Your key was not accepted; sign in again.");
});
signOut.addEventListener("click", () => {
  clearApiKey();
  showSignIn("You are signed out.");
});
window.addEventListener("hashchange", showView);

// The worker only matters once media is played with a key; the first view need not wait for it
startKeyWorker();
start();
