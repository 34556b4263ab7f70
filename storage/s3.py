"""The blob store in an S3-compatible bucket: AWS S3, MinIO, Cloudflare R2, moto, ...

``KQ_STORAGE_URL=s3://bucket/prefix`` selects it (``storage.blobs.blob_store``). Credentials and
region come from boto3's usual sources (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_DEFAULT_REGION``, ``~/.aws``, an instance role); the endpoint from ``KQ_S3_ENDPOINT_URL``,
else boto3's ``AWS_ENDPOINT_URL``. No worker needs a disk shared with any other process.

A blob is written to a local temporary file first and uploaded whole when the writer's block
succeeds: an S3 PUT (and a completed multipart upload) is atomic, so a reader sees the previous
object or the complete new one, never a part. Every S3 failure becomes ``StorageError`` (an
OSError, which the tasks retry) with a message that says what to check.
"""

import logging
import mimetypes
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

from storage.blob_store import READ_BLOCK, BlobNotFound, BlobStore, StorageError, check_key

log = logging.getLogger(__name__)

S3_ERRORS = (BotoCoreError, ClientError, S3UploadFailedError)
# One PUT up to this size; above it a multipart upload (also atomic: the object appears when
# the upload completes)
MULTIPART_THRESHOLD = 64 * 1024 * 1024
DELETE_BATCH = 1000  # DeleteObjects' limit
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
DENIED = {"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden"}


class S3BlobStore(BlobStore):
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        addressing_style: str = "auto",
        presigned_downloads: bool = False,
        presigned_expiry_s: int = 3600,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 60.0,
        max_attempts: int = 3,
    ):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.presigned_downloads = presigned_downloads
        self.presigned_expiry_s = presigned_expiry_s
        self._config = Config(
            s3={"addressing_style": addressing_style},
            signature_version="s3v4",
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            # Checksums only where S3 requires them: not every S3-compatible server accepts the
            # newer default ones
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._client = None
        self._client_pid: int | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint_url}" if self.endpoint_url else where

    def __repr__(self) -> str:
        return f"S3BlobStore({self.url})"

    @property
    def client(self):
        """A client of this process: one made before a fork is not used after it."""
        if self._client is None or self._client_pid != os.getpid():
            if self._client_pid != os.getpid():
                self._lock = threading.Lock()  # a lock copied by fork may be held forever
            with self._lock:
                if self._client is None or self._client_pid != os.getpid():
                    # A session per client: boto3's default session is not thread-safe
                    session = boto3.session.Session()
                    self._client = session.client(
                        "s3", endpoint_url=self.endpoint_url, config=self._config
                    )
                    self._client_pid = os.getpid()
        return self._client

    def object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    # Writing

    @contextmanager
    def writer(self, key: str, suffix: str = "") -> Iterator[Path]:
        object_key = self.object_key(key)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix="kq-s3-", suffix=f"{suffix}.tmp")
            os.close(fd)
        except OSError as error:
            raise StorageError(
                f"cannot write audio {key!r} to storage {self.url}: no local temporary file "
                f"({error.strerror or error}); check free space in {tempfile.gettempdir()}"
            ) from error
        tmp = Path(tmp_name)
        try:
            yield tmp
            self._upload(tmp, key, object_key)
        except StorageError:
            raise
        except OSError as error:  # the block's own writes to the temporary file
            raise StorageError(
                f"cannot write audio {key!r} to storage {self.url}: the local temporary file "
                f"failed ({error.strerror or error}); check free space in "
                f"{tempfile.gettempdir()}"
            ) from error
        finally:
            tmp.unlink(missing_ok=True)

    def _upload(self, tmp: Path, key: str, object_key: str) -> None:
        extra = {}
        content_type = mimetypes.guess_type(key)[0]
        if content_type:
            extra["ContentType"] = content_type
        try:
            if tmp.stat().st_size <= MULTIPART_THRESHOLD:
                with tmp.open("rb") as body:
                    self.client.put_object(Bucket=self.bucket, Key=object_key, Body=body, **extra)
            else:
                transfer = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD)
                self.client.upload_file(
                    str(tmp), self.bucket, object_key, ExtraArgs=extra, Config=transfer
                )
        except S3_ERRORS as error:
            raise self._error("write", key, error) from error

    # Reading

    def get(self, key: str) -> bytes:
        body = self._get_object(key)
        try:
            return body.read()
        except S3_ERRORS as error:
            raise self._error("read", key, error) from error
        finally:
            body.close()

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        if end is not None and end <= start:
            return iter(())
        byte_range = None
        if start or end is not None:
            byte_range = f"bytes={start}-{'' if end is None else end - 1}"
        body = self._get_object(key, byte_range)  # now: errors before the first block
        return self._blocks(key, body)

    def _blocks(self, key: str, body) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(READ_BLOCK)
        except S3_ERRORS as error:
            raise self._error("read", key, error) from error
        finally:
            body.close()

    def _get_object(self, key: str, byte_range: str | None = None):
        request = {"Bucket": self.bucket, "Key": self.object_key(key)}
        if byte_range:
            request["Range"] = byte_range
        try:
            return self.client.get_object(**request)["Body"]
        except S3_ERRORS as error:
            if _code(error) in NOT_FOUND:
                raise BlobNotFound(key) from error
            raise self._error("read", key, error) from error

    def _head(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except S3_ERRORS as error:
            # HEAD has no body: a missing bucket is a bare 404 too, found by the next write
            if _code(error) in NOT_FOUND:
                return None
            raise self._error("read", key, error) from error

    def exists(self, key: str) -> bool:
        return self._head(key) is not None

    def size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise BlobNotFound(key)
        return int(head["ContentLength"])

    # Deleting

    def delete_prefix(self, prefix: str) -> None:
        object_prefix = self.object_key(prefix)
        try:
            keys = [object_prefix]
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{object_prefix}/"
            )
            keys += [item["Key"] for page in pages for item in page.get("Contents", [])]
            for start in range(0, len(keys), DELETE_BATCH):
                batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
                for failed in answer.get("Errors", []):
                    log.warning(
                        "could not delete %s from %s: %s %s",
                        failed.get("Key"),
                        self.url,
                        failed.get("Code"),
                        failed.get("Message"),
                    )
        except S3_ERRORS as error:
            log.warning("%s", self._error("delete", prefix, error))

    # Downloads

    def download_url(self, key: str, *, media_type: str, disposition: str) -> str | None:
        if not self.presigned_downloads:
            return None
        params = {
            "Bucket": self.bucket,
            "Key": self.object_key(key),
            "ResponseContentType": media_type,
            "ResponseContentDisposition": disposition,
        }
        try:
            return self.client.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=self.presigned_expiry_s
            )
        except S3_ERRORS as error:  # signing is local: only missing credentials end here
            raise self._error("read", key, error) from error

    # Errors

    def _error(self, action: str, key: str, error: Exception) -> StorageError:
        where = "to" if action == "write" else "from"
        return StorageError(
            f"cannot {action} audio {key!r} {where} storage {self.url}: {self._reason(error)}"
        )

    def _reason(self, error: Exception) -> str:
        if isinstance(error, S3UploadFailedError) and isinstance(error.__context__, ClientError):
            error = error.__context__
        code = _code(error)
        if code == "NoSuchBucket":
            return f"the bucket {self.bucket!r} does not exist; create it or correct KQ_STORAGE_URL"
        if code in DENIED:
            return (
                f"access denied ({code}); check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and the "
                f"bucket's policy"
            )
        if isinstance(error, NoCredentialsError):
            return "no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
            endpoint = self.endpoint_url or "the AWS S3 endpoint"
            return (
                f"cannot reach {endpoint} ({error}); check KQ_S3_ENDPOINT_URL and that the "
                "server is up"
            )
        if isinstance(error, ReadTimeoutError):
            return f"the server did not answer in time ({error})"
        if isinstance(error, ClientError):
            message = error.response.get("Error", {}).get("Message") or ""
            return f"{code}: {message}".rstrip(": ")
        return str(error)


def _code(error: Exception) -> str:
    if isinstance(error, S3UploadFailedError) and isinstance(error.__context__, ClientError):
        error = error.__context__
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return ""
