// @ts-check
// Check (the dry run: how many parts would be made again, what changed in them), then Re-make
// exactly what was checked and open the revision's page: for the word fix and the chapter edit.

import { api } from "../api.js";
import { announce, append, h } from "../dom.js";
import { changedPlaces, partsToMake } from "../revisions.js";
import { go } from "../router.js";

/** @import { Job, RevisionBody } from "../types.js" */
/** @import { Wanted } from "../revisions.js" */

/**
 * @param {Job} job
 * @param {string} prefix the ids: `${prefix}-check`, -remake, -plan, -error
 * @param {(revision: Job) => void} [made] called before the revision's page opens
 */
export function createRemake(job, prefix, made) {
  const check = h("button", { type: "submit", class: "secondary", id: `${prefix}-check` }, "Check");
  const remake = h("button", { type: "button", id: `${prefix}-remake`, disabled: true }, "Re-make");
  const plan = h("div", { id: `${prefix}-plan`, role: "status" });
  const problem = h("p", { class: "error-text", id: `${prefix}-error`, role: "alert" });
  /** @type {RevisionBody | null} what the last Check checked: Re-make sends that */
  let checked = null;
  /** @param {string} message */
  const fail = (message) => { problem.textContent = message; };
  // Anything typed after a Check makes that Check stale: Re-make waits for another
  const reset = () => {
    checked = null;
    remake.disabled = true;
    plan.replaceChildren();
    fail("");
  };

  /** @param {Wanted} wanted */
  async function run({ body, problem: missing }) {
    reset();
    if (!body) return fail(missing);
    check.disabled = true;
    try {
      const found = await api.planRevision(job.id, body);
      const { places, more } = changedPlaces(found.changes, job.chapters);
      append(plan, [h("p", { class: "preview-summary" }, partsToMake(found)),
        places.length ? h("ul", { class: "fix-places" }, places.map(({ where, runs }) => h("li", {}, `${where}: `,
          runs.map((run) => (typeof run === "string" ? `${run} ` : [h("del", {}, run[0]), " → ", h("ins", {}, run[1]), " "])))),
        more ? h("li", { class: "muted" }, `and ${more} more`) : null) : null]);
      checked = found.chunks_to_make ? body : null;
      remake.disabled = !checked;
    } catch (error) {
      fail(`It cannot be made so: ${error.message}`);
    } finally {
      check.disabled = false;
    }
  }

  remake.addEventListener("click", async () => {
    if (!checked) return;
    remake.disabled = true;
    try {
      const revision = await api.revise(job.id, checked);
      made?.(revision);
      announce(`Making it again: ${revision.chunks_to_make} parts to make.`);
      go(`#/jobs/${revision.id}`);
    } catch (error) {
      fail(`It could not be made again: ${error.message}`);
      remake.disabled = false;
    }
  });
  return { check, remake, plan, problem, reset, fail, run };
}
