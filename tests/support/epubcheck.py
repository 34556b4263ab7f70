"""EPUBCheck, the W3C's EPUB validator (Debian's `epubcheck` package, `make epubcheck`), run on a
file with its findings read from its JSON report."""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
TIMEOUT_S = 300  # a Java start and a small book: seconds, more on a busy machine


@dataclass(frozen=True)
class Finding:
    severity: str  # FATAL, ERROR, WARNING, USAGE, INFO
    id: str  # e.g. MED-014
    message: str
    where: str

    def __str__(self) -> str:
        return f"{self.severity}({self.id}) {self.where}: {self.message}"


def epubcheck_available() -> bool:
    return EPUBCHECK_JAR.is_file() and shutil.which("java") is not None


def epubcheck(path: Path) -> list[Finding]:
    """Every finding of EPUBCheck on the EPUB at ``path`` (none: a valid publication)."""
    with tempfile.TemporaryDirectory(prefix="kq-epubcheck-") as workdir:
        report = Path(workdir) / "report.json"
        done = subprocess.run(
            ["java", "-jar", str(EPUBCHECK_JAR), str(path), "--json", str(report)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_S,
        )
        if not report.exists():
            raise AssertionError(f"EPUBCheck wrote no report: {done.stdout}\n{done.stderr}")
        messages = json.loads(report.read_text(encoding="utf-8"))["messages"]
    findings = []
    for message in messages:
        places = message.get("locations") or [{}]
        for place in places:
            where = f"{place.get('path', '')}:{place.get('line', '')}:{place.get('column', '')}"
            findings.append(Finding(message["severity"], message["ID"], message["message"], where))
    return findings


def is_about_media_overlays(finding: Finding) -> bool:
    """A finding about Media Overlays: its own checks (MED-005, MED-008 to MED-015), or any
    in an overlay, the package's media: metadata or the audio."""
    overlay_checks = {"MED-005", *(f"MED-{n:03d}" for n in range(8, 16))}
    text = f"{finding.where} {finding.message}".lower()
    return finding.id in overlay_checks or any(
        word in text for word in (".smil", "media:", "overlay", "audio")
    )
