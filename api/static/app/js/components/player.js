// @ts-check
// The job's <audio> player: while the book is being made it plays the live stream (finished
// parts in order, from the first one on); once the file is ready it plays that, keeping the
// listener's place, so chapters can be jumped to.

import { links } from "../api.js";
import { h } from "../dom.js";
import { isActive } from "../format.js";
import { mediaUrl, mediaNeedsFetch, playableUrl } from "../media.js";

/** @import { Job } from "../types.js" */

/** @param {Job} job */
export function createPlayer(job) {
  const audio = h("audio", { controls: true, preload: "none", id: "player", "aria-describedby": "player-note" });
  const note = h("p", { class: "hint", id: "player-note" });
  const switchButton = h("button", { type: "button", class: "secondary small", id: "switch-to-file", hidden: true },
    "Switch to the finished file");
  /** @type {"stream" | "file" | null} */
  let mode = null; // "stream" while it is being made, "file" once it is ready
  let jobId = job.id;

  /** @param {{keepPlace: boolean}} options keepPlace: go on from where the stream was */
  async function useFile({ keepPlace }) {
    const position = audio.currentTime;
    const wasPlaying = !audio.paused;
    mode = "file";
    switchButton.hidden = true;
    audio.preload = "metadata";
    audio.src = await playableUrl(links.audio(jobId));
    note.textContent = "";
    if (keepPlace && position > 0) {
      audio.addEventListener("loadedmetadata", () => { audio.currentTime = position; }, { once: true });
    }
    if (wasPlaying) audio.play().catch(() => {});
  }

  // The live stream has played to its end: carry on in the file from the same place
  audio.addEventListener("ended", () => {
    if (mode === "stream" && !switchButton.hidden) useFile({ keepPlace: true });
  });
  switchButton.addEventListener("click", () => useFile({ keepPlace: true }));

  /** @param {Job} latest */
  function update(latest) {
    jobId = latest.id;
    if (latest.status === "succeeded" && mode !== "file") {
      if (mode === "stream" && !audio.paused) {
        switchButton.hidden = false;
        note.textContent = "The whole book is ready. It plays on from the same place when this part ends.";
      } else {
        useFile({ keepPlace: mode === "stream" });
      }
    } else if (isActive(latest.status) && mode === null) {
      if (mediaNeedsFetch()) {
        note.textContent = "Listening while it is made needs this page over https; the file plays here once it is ready.";
        return;
      }
      mode = "stream";
      audio.src = mediaUrl(links.stream(latest.id, "mp3"));
      note.textContent = "Press play to listen while it is being made: it starts with the parts already done.";
    } else if (latest.status === "failed" || latest.status === "cancelled") {
      if (mode !== "stream") audio.hidden = true;
      note.textContent = latest.status === "failed" ? "There is no audio: the book could not be made." : "There is no audio: it was cancelled.";
    }
  }

  /** @param {number} seconds */
  function seek(seconds) {
    if (mode !== "file") return;
    const go = () => {
      audio.currentTime = seconds;
      audio.play().catch(() => {});
    };
    if (audio.readyState >= 1) go();
    else {
      audio.addEventListener("loadedmetadata", go, { once: true });
      audio.load();
    }
  }

  const element = h("div", { class: "player" }, audio, note, switchButton);
  update(job);
  return { element, audio, update, seek, stop: () => audio.pause() };
}
