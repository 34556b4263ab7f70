"""A proofed job's report: chunks checked, remade and flagged, and the book's word error rate.

Kept with the job (jobs.proof_report) so that a status poll reads it with the job row alone.
Each chunk's proof (core/speech/proof.py ``ChunkProof.as_row``) is added as it finishes; once
every chunk is made the report is built again from all of them, with each flag's place in the
final file (core/audio/timeline.py): where its chunk's speech starts, which assembly will not
move. Pure, and light: the API reads it without the scoring's normalizer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.audio.formats import SAMPLE_RATE

# The flags a job's report lists (the first, by position); all of them are counted, and
# GET /v1/jobs/{id}/proof lists every one
MAX_FLAGS_LISTED = 100


def empty_report() -> dict:
    return {
        "chunks_checked": 0,
        "remade": 0,
        "flagged_count": 0,
        "words": 0,
        "errors": 0,
        "flagged": [],
        "placed": False,
    }


def flag_item(
    index: int, chapter: int, written: str, proof: dict, start_sample: int | None = None
) -> dict:
    """A flagged chunk as listed: where it is (``start_sample`` in the final file, None while
    it is not placed), what was written, said and heard."""
    return {
        "index": index,
        "chapter": chapter,
        "start_s": None if start_sample is None else round(start_sample / SAMPLE_RATE, 3),
        "written": written,
        "spoken": proof["spoken"],
        "heard": proof["heard"],
        "wer": proof["wer"],
        "cer": proof.get("cer"),
        "differences": proof.get("differences", []),
    }


def _count(report: dict, proof: dict) -> None:
    report["chunks_checked"] += 1
    report["remade"] += bool(proof.get("remade"))
    report["words"] += proof["words"]
    report["errors"] += proof["errors"]
    if proof.get("flagged"):
        report["flagged_count"] += 1


def with_chunk(report: dict | None, index: int, chapter: int, written: str, proof: dict) -> dict:
    """``report`` (None: a new one) with one more chunk's proof, its flag not placed yet."""
    updated = dict(report) if report else empty_report()
    updated["flagged"] = list(updated.get("flagged", []))
    _count(updated, proof)
    if proof.get("flagged") and len(updated["flagged"]) < MAX_FLAGS_LISTED:
        updated["flagged"].append(flag_item(index, chapter, written, proof))
        updated["flagged"].sort(key=lambda item: item["index"])
    return updated


@dataclass(frozen=True)
class PlacedProof:
    """A chunk's proof (None: not checked) and where its audio starts in the file (None: not
    known yet, a chunk before it is still to make)."""

    index: int
    chapter: int
    start_sample: int | None
    proof: dict | None


def listed_flags(chunks: Iterable[PlacedProof]) -> list[int]:
    """The indices of the flagged chunks a report lists: the first MAX_FLAGS_LISTED."""
    flagged = (c.index for c in chunks if c.proof is not None and c.proof.get("flagged"))
    return [index for index, _ in zip(flagged, range(MAX_FLAGS_LISTED), strict=False)]


def placed_report(chunks: Iterable[PlacedProof], written: dict[int, str]) -> dict:
    """The report of a job whose chunks are all made, each flag at its place in the file.
    ``written`` holds the text of (at least) the first MAX_FLAGS_LISTED flagged chunks."""
    report = empty_report()
    for chunk in chunks:
        if chunk.proof is None:
            continue
        _count(report, chunk.proof)
        if chunk.proof.get("flagged") and len(report["flagged"]) < MAX_FLAGS_LISTED:
            report["flagged"].append(
                flag_item(
                    chunk.index,
                    chunk.chapter,
                    written.get(chunk.index, ""),
                    chunk.proof,
                    chunk.start_sample,
                )
            )
    report["placed"] = True
    return report


def book_wer(report: dict) -> float | None:
    """Word errors over the words of every checked chunk (as kept); None before any."""
    return round(report["errors"] / report["words"], 4) if report.get("words") else None


def summary(report: dict | None) -> dict:
    """What a job shows of its report (JobOut.proof)."""
    report = report or empty_report()
    return {
        "chunks_checked": report["chunks_checked"],
        "remade": report["remade"],
        "flagged_count": report["flagged_count"],
        "flagged": report["flagged"],
        "book_wer": book_wer(report),
        "placed": report.get("placed", False),
    }
