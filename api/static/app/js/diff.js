// @ts-check
// Where the spoken form differs from the written text, word by word (longest common
// subsequence), so the preview can mark what the narrator will say differently.

const MAX_CELLS = 400_000; // a chunk is a few hundred tokens at most; this is a safety bound

/**
 * A run of words said as written, or a run said differently (either side may be empty)
 * @typedef {{same: true, words: string[]} | {same: false, written: string[], spoken: string[]}} Run
 */

/**
 * The runs of `written` and `spoken`, word by word, in order
 * @param {string} written
 * @param {string} spoken
 * @returns {Run[]}
 */
export function wordDiff(written, spoken) {
  const a = written.split(/\s+/).filter(Boolean);
  const b = spoken.split(/\s+/).filter(Boolean);
  if (a.length * b.length > MAX_CELLS) {
    return written === spoken ? [{ same: true, words: a }] : [{ same: false, written: a, spoken: b }];
  }
  // lengths[i][j]: the longest common subsequence of a[i:] and b[j:]
  const lengths = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lengths[i][j] = a[i] === b[j] ? lengths[i + 1][j + 1] + 1 : Math.max(lengths[i + 1][j], lengths[i][j + 1]);
    }
  }
  /** @type {Run[]} */
  const runs = [];
  /**
   * @param {boolean} same
   * @param {string | null} writtenWord
   * @param {string | null} spokenWord
   */
  const push = (same, writtenWord, spokenWord) => {
    let last = runs[runs.length - 1];
    if (!last || last.same !== same) {
      last = same ? { same: true, words: [] } : { same: false, written: [], spoken: [] };
      runs.push(last);
    }
    if (last.same) last.words.push(/** @type {string} */ (writtenWord));
    else {
      if (writtenWord !== null) last.written.push(writtenWord);
      if (spokenWord !== null) last.spoken.push(spokenWord);
    }
  };
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      push(true, a[i], null);
      i += 1;
      j += 1;
    } else if (j < b.length && (i === a.length || lengths[i][j + 1] >= lengths[i + 1][j])) {
      push(false, null, b[j]);
      j += 1;
    } else {
      push(false, a[i], null);
      i += 1;
    }
  }
  return runs;
}
