// @ts-check
// Sign-in: this server has API keys, and every /v1 request needs one. The key stays in this
// tab (sessionStorage) until sign-out or the tab closes.

import { api } from "../api.js";
import { apiKey, clearApiKey, setApiKey } from "../auth.js";
import { append, h } from "../dom.js";

/**
 * @param {HTMLElement} root
 * @param {{reason: string, onSignedIn: () => void}} options reason: why sign-in is asked ("" for none)
 */
export function renderSignIn(root, { reason, onSignedIn }) {
  const input = h("input", {
    id: "api-key", name: "api-key", type: "password", autocomplete: "current-password",
    required: true, spellcheck: "false", "aria-describedby": "api-key-hint api-key-error",
  });
  const error = h("p", { id: "api-key-error", class: "field-error", role: "alert" });
  const button = h("button", { type: "submit" }, "Sign in");
  const form = h("form", { class: "card narrow", id: "sign-in-form" },
    h("div", { class: "field" },
      h("label", { for: "api-key" }, "API key"),
      input,
      h("p", { id: "api-key-hint", class: "hint" }, "Kept in this tab only, until you sign out or close it."),
      error),
    button);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    input.removeAttribute("aria-invalid");
    button.disabled = true;
    setApiKey(input.value.trim());
    try {
      await api.jobs({ limit: 1 });
      onSignedIn();
    } catch (failure) {
      clearApiKey();
      error.textContent = failure.status === 401 ? "That key was not accepted." : failure.message;
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } finally {
      button.disabled = false;
    }
  });

  append(root, [
    h("h1", { tabindex: "-1" }, "Sign in"),
    h("p", {}, "This service needs an API key. Ask whoever runs it for one."),
    reason ? h("p", { class: "notice", role: "status" }, reason) : null, // not the text "null"
    form,
  ]);
  if (apiKey()) clearApiKey();
  input.focus();
}
