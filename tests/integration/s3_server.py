"""A real S3-compatible server for the object-store tests: moto's server (a separate process
that speaks the S3 HTTP API, request signing included) on a free loopback port, with a fresh
bucket per test. tiyan reaches it over HTTP through boto3, as it would reach MinIO or AWS."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.processes import free_port

ACCESS_KEY, SECRET_KEY = "tiyan-test-key", "tiyan-test-secret"


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def settings(self, bucket: str) -> dict[str, Any]:
        """tiyan's settings that store new files in `bucket` of this server."""
        return {"storage": "s3", "s3_endpoint_url": self.endpoint, "s3_bucket": bucket,
                "s3_access_key_id": ACCESS_KEY, "s3_secret_access_key": SECRET_KEY}

    def environment(self, bucket: str) -> dict[str, str]:
        """The same as TIYAN_* variables, for tiyan processes."""
        return {f"TIYAN_{name.upper()}": str(value)
                for name, value in self.settings(bucket).items()}

    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def new_bucket(self) -> str:
        name = f"tiyan-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def names(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents") or [])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log_path: Path = tmp_path_factory.mktemp("s3") / "moto.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                    "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the S3 server exited: {log_path.read_text()}")
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"the S3 server did not answer: "
                                         f"{log_path.read_text()}") from None
                time.sleep(0.1)
        yield S3Server(endpoint)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
