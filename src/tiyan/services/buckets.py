"""An S3-compatible bucket (AWS S3, MinIO, Ceph RGW, a cloud provider's S3 endpoint) holding
the bytes of stored files, through boto3.

boto3 is imported only when a bucket is configured (`pip install 'tiyan[s3]'`), so an
installation that keeps its files in the database needs nothing more.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from tiyan.errors import DatabaseError, NotFound
from tiyan.settings import Settings

CHUNK = 1 << 20


class BucketUnavailable(DatabaseError):
    """The bucket does not answer, or refuses tiyan's credentials: a 503 with the reason."""

    code = "object_store"


class BucketObjectMissing(NotFound):
    code = "object_missing"


@dataclass(frozen=True)
class BucketSettings:
    bucket: str
    prefix: str
    region: str
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    addressing: str

    @classmethod
    def of(cls, settings: Settings) -> BucketSettings | None:
        """The configured bucket, or None when there is none."""
        if not settings.s3_bucket.strip():
            return None
        return cls(settings.s3_bucket.strip(), settings.s3_prefix, settings.s3_region,
                   settings.s3_endpoint_url or None, settings.s3_access_key_id,
                   settings.s3_secret_access_key, settings.s3_addressing)


class Bucket:
    """The objects under one prefix of one bucket."""

    def __init__(self, config: BucketSettings) -> None:
        self.config = config
        self.name = config.bucket
        self.prefix = config.prefix
        self._client = _client(config)

    def upload(self, name: str, source: BinaryIO, *, content_type: str | None = None) -> int:
        """Store `source` as the object `name` (multipart beyond 8 MiB, so memory stays
        bounded); its size in bytes."""
        counted = _Counting(source)
        extra = {"ContentType": content_type} if content_type else None
        with self._failures(name):
            self._client.upload_fileobj(counted, self.name, name, ExtraArgs=extra)
        return counted.size

    def chunks(self, name: str) -> Iterator[bytes]:
        with self._failures(name):
            body = self._client.get_object(Bucket=self.name, Key=name)["Body"]
        try:
            with self._failures(name):
                yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def remove(self, names: Iterable[str]) -> None:
        """Remove the objects (absent ones count as removed)."""
        batch: list[str] = []
        for name in names:
            batch.append(name)
            if len(batch) == 1000:  # the most one DeleteObjects request takes
                self._remove_batch(batch)
                batch = []
        if batch:
            self._remove_batch(batch)

    def _remove_batch(self, names: list[str]) -> None:
        with self._failures(names[0]):
            answer = self._client.delete_objects(
                Bucket=self.name, Delete={"Objects": [{"Key": n} for n in names], "Quiet": True})
        refused = answer.get("Errors") or []
        if refused:
            first = refused[0]
            raise BucketUnavailable("buckets.bucket_refused_remove_object", name=self.name,
                                    n_refused=len(refused), first=first.get('Key'),
                                    first2=first.get('Code'), first3=first.get('Message'),
                                    where="storage")

    def listing(self) -> Iterator[tuple[str, dt.datetime]]:
        """Every object under the prefix, with when it was last written."""
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=self.prefix)
        with self._failures(self.prefix):
            for page in pages:
                for item in page.get("Contents") or []:
                    yield item["Key"], item["LastModified"]

    def check(self) -> None:
        """Raises BucketUnavailable when the bucket cannot be reached with these credentials."""
        with self._failures(""):
            self._client.head_bucket(Bucket=self.name)

    def _failures(self, name: str) -> _Translated:
        return _Translated(self.name, name)


class _Translated:
    """boto3's exceptions as tiyan's: a missing object is NotFound, the rest unavailable."""

    def __init__(self, bucket: str, name: str) -> None:
        self.bucket, self.name = bucket, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            return
        from botocore.exceptions import BotoCoreError, ClientError

        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            if code in ("NoSuchKey", "404") and self.name:
                raise BucketObjectMissing("buckets.object_not_bucket", name=self.name,
                                          bucket=self.bucket, where="storage") from exc
            raise BucketUnavailable("buckets.bucket_answered", bucket=self.bucket,
                                    code=code or 'an error', error=error.get('Message') or exc,
                                    where="storage") from exc
        if isinstance(exc, BotoCoreError):
            raise BucketUnavailable("buckets.bucket_cannot_reached", bucket=self.bucket, exc=exc,
                                    where="storage") from exc


class _Counting:
    """A file object that counts what is read from it."""

    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.size += len(data)
        return data


@functools.cache
def _client(config: BucketSettings) -> Any:
    """One client per process and bucket (boto3 clients are safe to share between threads)."""
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - the s3 extra is part of the dev install
        raise BucketUnavailable("buckets.tiyan_storage_needs_boto",
                                where="TIYAN_STORAGE") from None
    return boto3.client(
        "s3", endpoint_url=config.endpoint_url, region_name=config.region,
        aws_access_key_id=config.access_key_id, aws_secret_access_key=config.secret_access_key,
        config=Config(s3={"addressing_style": config.addressing}, connect_timeout=5,
                      read_timeout=60, retries={"max_attempts": 3, "mode": "standard"}))
