"""Optical character recognition of a scanned page's image, by Tesseract run as a program
(Debian: `apt-get install tesseract-ocr`), when it is installed."""

import os
import shutil
import subprocess
from dataclasses import dataclass

TESSERACT_PACKAGE = "tesseract-ocr"  # Debian's and Ubuntu's name for it
OCR_PAGE_TIMEOUT_S = 120  # a dense page at 300 dpi takes a few seconds


class OcrFailed(Exception):
    """Tesseract could not read an image; the message says why."""


@dataclass(frozen=True)
class Tesseract:
    command: str

    def read(self, image: bytes) -> str:
        """The text of ``image`` (JPEG, PNG, PNM, TIFF...), lines as Tesseract found them and
        a blank line between its paragraphs."""
        try:
            done = subprocess.run(
                [self.command, "stdin", "stdout"],
                input=image,
                capture_output=True,
                timeout=OCR_PAGE_TIMEOUT_S,
                check=False,
                # One thread: the API's other requests need the other cores more than a page
                # needs its seconds shortened
                env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            )
        except subprocess.TimeoutExpired as error:
            raise OcrFailed(f"tesseract took more than {OCR_PAGE_TIMEOUT_S} s") from error
        except OSError as error:
            raise OcrFailed(f"tesseract could not be run: {error}") from error
        if done.returncode != 0:
            reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
            raise OcrFailed(f"tesseract failed: {' '.join(reason) or done.returncode}")
        return done.stdout.decode("utf-8", "replace")


def find_tesseract() -> Tesseract | None:
    command = shutil.which("tesseract")
    return Tesseract(command) if command else None
