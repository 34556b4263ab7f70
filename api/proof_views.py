"""What proof-listening found, as the API shows it: a job's report (JobOut.proof) and its
flags, each with a link to its point in the finished file."""

from api.schemas import ProofFlag, ProofOut
from core.speech.proof_report import summary
from storage.models import Job


def flag_out(job_id: str, item: dict) -> ProofFlag:
    start = item.get("start_s")
    # A media fragment (#t=seconds): browsers and most players start the file there
    audio = f"/v1/jobs/{job_id}/audio#t={start:.2f}" if start is not None else None
    return ProofFlag(**item, audio=audio)


def proof_out(job: Job) -> ProofOut | None:
    """A proofed job's report from its row alone (a status poll reads nothing else); None for
    a job that is not proofed."""
    if not job.proof:
        return None
    report = summary(job.proof_report)
    report["flagged"] = [flag_out(job.id, item) for item in report["flagged"]]
    return ProofOut(**report)
