// @ts-check
// Plays a voice's sample (GET /v1/voices/{voice}/sample) through one shared <audio> element,
// so starting another sample stops the last. A sample not yet made takes a worker a few
// seconds: the button says so meanwhile.

import { links } from "../api.js";
import { announce, h } from "../dom.js";
import { playableUrl } from "../media.js";

export function createSamplePlayer() {
  const audio = h("audio", { id: "voice-sample-audio", preload: "none", class: "visually-hidden" });
  /** @type {HTMLButtonElement | null} */
  let activeButton = null;

  function reset() {
    if (!activeButton) return;
    activeButton.setAttribute("aria-pressed", "false");
    activeButton.classList.remove("busy");
    activeButton.textContent = activeButton.dataset.label ?? "";
    activeButton = null;
  }

  audio.addEventListener("playing", () => {
    if (activeButton) activeButton.textContent = "■ Stop";
  });
  audio.addEventListener("ended", reset);
  audio.addEventListener("error", () => {
    if (activeButton) announce(`The sample of ${activeButton.dataset.voice} could not be played.`);
    reset();
  });

  /**
   * @param {string} voice
   * @param {HTMLButtonElement} button
   */
  async function toggle(voice, button) {
    const same = activeButton === button;
    audio.pause();
    reset();
    if (same) return;
    activeButton = button;
    button.dataset.label ||= button.textContent;
    button.dataset.voice = voice;
    button.setAttribute("aria-pressed", "true");
    button.classList.add("busy");
    button.textContent = "Loading…";
    try {
      audio.src = await playableUrl(links.sample(voice));
      audio.dataset.voice = voice;
      await audio.play();
    } catch (error) {
      if (error.name !== "AbortError") announce(`The sample of ${voice} could not be played.`);
      if (activeButton === button) reset();
    }
  }

  /**
   * A play button for the sample of `voice` (a name, or a blend spec worked out on click)
   * @param {string | (() => string)} voice
   * @param {string} label
   */
  function button(voice, label) {
    const control = h("button", {
      type: "button", class: "secondary small sample-button", "aria-pressed": "false",
      dataset: { label },
    }, label);
    control.addEventListener("click", () => toggle(typeof voice === "function" ? voice() : voice, control));
    return control;
  }

  return { audio, button, stop: () => { audio.pause(); reset(); } };
}
