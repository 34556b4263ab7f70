// @ts-check
// The shapes the app reads from the public API (docs/api.md; api/schemas.py defines them), for
// the type checker only: JSDoc elsewhere refers to them as import("./types.js").Job. The browser
// never loads this file.

/** @typedef {"queued" | "running" | "succeeded" | "failed" | "cancelled"} JobStatus */

/**
 * @typedef {object} Progress
 * @property {number} chunks_done
 * @property {number} chunks_total
 * @property {number} chars_done
 * @property {number} chars_total
 * @property {number} percent
 */

/**
 * @typedef {object} ChapterLevel
 * @property {number} chapter
 * @property {string} title
 * @property {number} gain_db
 * @property {number} rms_dbfs
 * @property {number} peak_dbfs
 */

/**
 * GET /v1/jobs/{id}
 * @typedef {object} Job
 * @property {string} id
 * @property {JobStatus} status
 * @property {string} voice
 * @property {number} speed
 * @property {string} lang
 * @property {string} format
 * @property {string} loudness
 * @property {ChapterLevel[] | null} [levels]
 * @property {string | null} title
 * @property {string | null} author
 * @property {string | null} [series]
 * @property {number | null} [series_index]
 * @property {string | null} [description]
 * @property {number | null} [year]
 * @property {string | null} [isbn]
 * @property {string} [narrator] who reads it: the voice
 * @property {string | null} [cover] where its cover image is (GET), null for none
 * @property {string[] | null} chapters chapter titles, when the job has chapters
 * @property {string} created_at
 * @property {string | null} started_at
 * @property {string | null} finished_at
 * @property {Progress} progress
 * @property {number | null} audio_seconds
 * @property {number | null} wall_seconds
 * @property {number | null} eta_seconds
 * @property {string | null} error
 * @property {string[]} warnings
 * @property {string | null} revision_of the job this one revises; null for a book's first
 * @property {number} chunks_reused parts whose audio an earlier job made
 * @property {number} chunks_to_make parts synthesized for this job
 * @property {{self: string, audio: string, events: string, stream: string, revisions: string}} links
 */

/**
 * GET /v1/jobs
 * @typedef {object} JobPage
 * @property {Job[]} jobs
 * @property {string | null} next_cursor
 */

/**
 * GET /v1/batches/{id}
 * @typedef {object} Batch
 * @property {string} id
 * @property {JobStatus} status
 * @property {string} created_at
 * @property {Progress} progress
 * @property {Job[]} jobs
 */

/**
 * GET /v1/jobs/{id}/chapters
 * @typedef {object} Chapter
 * @property {number} index
 * @property {string} title
 * @property {number} start_seconds
 * @property {number} end_seconds
 * @property {string | null} audio this chapter alone, for jobs submitted with chapters
 */

/**
 * GET /v1/jobs/{id}/timings
 * @typedef {object} Timings
 * @property {{word: string, start: number, end: number, chunk: number, chapter: number}[]} words
 * @property {boolean} estimated
 */

/**
 * GET /v1/voices
 * @typedef {object} Voice
 * @property {string} name
 * @property {string | null} language
 * @property {string | null} language_name
 * @property {"female" | "male" | null} gender
 * @property {string | null} grade
 * @property {boolean} default
 */

/**
 * GET /v1/formats: an audio format, from the service's one table of them
 * @typedef {object} Format
 * @property {string} name what `format` takes
 * @property {string} label
 * @property {string} extension of its files
 * @property {string} media_type
 * @property {boolean} job a job's file may be this
 */

/**
 * GET /v1/languages
 * @typedef {object} Language
 * @property {string} code what `lang` takes
 * @property {string} name
 */

/**
 * @typedef {object} PreviewChunk
 * @property {number} index
 * @property {number} chapter
 * @property {string} text the written text
 * @property {string} spoken what is said
 * @property {number} tokens
 * @property {string} pause_after clause, sentence, paragraph, chapter...
 * @property {number} pause_seconds
 * @property {number} estimated_seconds its audio and the silence after it
 */

/**
 * POST /v1/text/cast
 * @typedef {object} CastAnswer
 * @property {{name: string, gender: string, lines: number}[]} characters most lines first
 * @property {CastQuote[]} quotes
 */

/**
 * @typedef {object} CastQuote
 * @property {number} chapter
 * @property {number} start
 * @property {string} text
 * @property {string | null} speaker
 */

/**
 * POST /v1/text/preview
 * @typedef {object} Preview
 * @property {PreviewChunk[]} chunks
 * @property {number} estimated_audio_seconds
 * @property {string[]} warnings
 */

/** @typedef {{say: string} | {phonemes: string}} Pronunciation how a word is said */

/**
 * POST /v1/jobs/{id}/revisions: only what changes (the app sends pronunciations)
 * @typedef {object} RevisionBody
 * @property {Record<string, Pronunciation>} [pronunciations] word -> how it is said
 * @property {string} [text] the whole new text, for a job made from text
 * @property {Record<string, string>} [chapters] new texts of chapters, by index from 0
 */

/**
 * GET /v1/jobs/{id}/source: what a job was made from (its text, or its chapters)
 * @typedef {object} JobSource
 * @property {string | null} text
 * @property {{title: string | null, text: string, voice: string | null}[] | null} chapters
 * @property {Record<string, Pronunciation> | null} pronunciations
 * @property {"none" | "tags" | "ssml"} markup
 */

/**
 * POST /v1/jobs/{id}/revisions?dry_run=true: what a revision would make; nothing is stored
 * @typedef {object} RevisionPlan
 * @property {string} revision_of
 * @property {number} chunks_total
 * @property {number} chunks_reused
 * @property {number} chunks_to_make
 * @property {{index: number, chapter: number, before: string, after: string}[]} changes the parts
 *   to make, with what the earlier job said there (written text)
 */

/**
 * A 4xx answer's detail: a sentence, or for invalid fields pydantic's list of issues
 * @typedef {string | {type?: string, loc?: (string | number)[], msg: string}[] | null | undefined} Detail
 */

/**
 * The fields of POST /v1/jobs that the new-book form sends
 * @typedef {object} JobFields
 * @property {string} voice
 * @property {number} speed
 * @property {string} format
 * @property {string} loudness
 * @property {string} [lang]
 * @property {string} [title]
 * @property {string} [author]
 * @property {{characters: Record<string, string>, unknown: string | null, corrections: object[]}} [cast]
 */

/**
 * GET /v1/stats, as the throughput dashboard reads it
 * @typedef {object} Stats
 * @property {{since: string, until: string, active_seconds: number}} window
 * @property {Record<string, number>} jobs jobs by state
 * @property {number} chunks_done
 * @property {number | null} chars_per_second
 * @property {number | null} audio_seconds_per_wall_second
 * @property {{p50: number | null, p95: number | null}} inference_rtf
 * @property {{p50: number | null, p95: number | null}} queue_wait_ms
 * @property {{chunks_queued: number, broker_messages: number | null}} queue_depth
 * @property {{host: string, pid: number, inference_rtf_p50: number | null}[]} workers
 * @property {{t: string, audio_seconds_per_second: number}[]} timeline
 * @property {StatsJob[]} recent_jobs
 */

/**
 * @typedef {object} StatsJob
 * @property {string} id
 * @property {string} status
 * @property {string | null} title
 * @property {number} percent
 * @property {number | null} audio_seconds
 * @property {number | null} realtime_factor
 * @property {string} created_at
 */

export {};
