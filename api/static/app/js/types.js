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
 * @property {{self: string, audio: string, events: string, stream: string}} links
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
 * POST /v1/text/preview
 * @typedef {object} Preview
 * @property {PreviewChunk[]} chunks
 * @property {number} estimated_audio_seconds
 * @property {string[]} warnings
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
