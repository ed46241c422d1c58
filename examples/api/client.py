#!/usr/bin/env python3
"""fanout's jobs API from Python: submit a job, read its status, page through its results, cancel one.

Every request is signed with SigV4 for the `lambda` service by botocore (the signing half of boto3),
as the API's Function URL (AWS_IAM auth) and `npx fanout emulator`'s local API require; the request
itself goes out with the standard library's urllib.

    pip install botocore            # or: apt-get install python3-botocore
    export FANOUT_API_URL=...       # the stack's ApiUrl output, or what `npx fanout emulator` prints
    export AWS_REGION=us-east-1     # and credentials: the environment, ~/.aws, or an instance role
    python3 examples/api/client.py square '[1, 2, 3, 4, 5]'

Prints one JSON line per step: submitted, status, results, cancelled.
"""

import json
import os
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest


class ApiError(Exception):
    """The API answered with an error: {"error": {"code", "message"}}."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class FanoutApi:
    """A small client of fanout's jobs API: each method is one signed request."""

    def __init__(self, url=None, region=None):
        self.url = (url or os.environ["FANOUT_API_URL"]).rstrip("/")
        session = botocore.session.Session()
        self.region = region or os.environ.get("AWS_REGION") or session.get_config_variable("region") or "us-east-1"
        # The default chain: environment, shared config and SSO, container and instance roles.
        self.credentials = session.get_credentials()
        if self.credentials is None:
            raise SystemExit("no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile)")

    def call(self, method, path, body=None, query=None):
        url = self.url + path + ("?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"} if data is not None else {}
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        SigV4Auth(self.credentials.get_frozen_credentials(), "lambda", self.region).add_auth(request)
        prepared = urllib.request.Request(url, data=data, method=method, headers=dict(request.headers))
        try:
            with urllib.request.urlopen(prepared) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                detail = json.loads(text)["error"]
                raise ApiError(error.code, detail["code"], detail["message"]) from None
            except (ValueError, KeyError, TypeError):
                raise ApiError(error.code, None, text[:200]) from None

    def submit(self, task, items, chunksize=None, starmap=None):
        body = {"task": task, "items": items}
        if chunksize is not None:
            body["chunksize"] = chunksize
        if starmap is not None:
            body["starmap"] = starmap
        return self.call("POST", "/jobs", body)  # {"jobId", "total"}

    def status(self, job_id):
        return self.call("GET", f"/jobs/{job_id}")  # {"jobId", "task", "status", "total", "done", "failed", ...}

    def results_page(self, job_id, next_token=None):
        return self.call("GET", f"/jobs/{job_id}/results", query={"next": next_token} if next_token else None)

    def wait_for_results(self, job_id, timeout=600):
        """Every result in input order (None where an item failed) and the errors, paging and polling."""
        results, errors, next_token, delay = [], [], None, 0.1
        deadline = time.monotonic() + timeout
        while True:
            page = self.results_page(job_id, next_token)
            results += page["results"]
            errors += page["errors"]
            next_token = page.get("next")
            if next_token is None:
                return results, errors
            if page["results"]:
                delay = 0.1
                continue
            # Nothing new: the job runs on. Back off (with jitter), and stop if it was cancelled.
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id}: not finished after {timeout} s")
            time.sleep(delay / 2 + random.random() * delay / 2)
            delay = min(delay * 2, 2.0)
            if self.status(job_id)["status"] == "cancelled":
                raise RuntimeError(f"job {job_id} was cancelled")

    def cancel(self, job_id):
        return self.call("DELETE", f"/jobs/{job_id}")  # {"jobId", "status": "cancelled"}


def main(argv):
    task = argv[1] if len(argv) > 1 else "square"
    items = json.loads(argv[2]) if len(argv) > 2 else [1, 2, 3, 4, 5]
    api = FanoutApi()
    submitted = api.submit(task, items)
    print(json.dumps({"submitted": submitted}), flush=True)
    print(json.dumps({"status": api.status(submitted["jobId"])}), flush=True)
    results, errors = api.wait_for_results(submitted["jobId"])
    print(json.dumps({"results": results, "errors": errors}), flush=True)
    # A second job, cancelled at once: workers skip its chunks that have not started.
    other = api.submit(task, items)
    print(json.dumps({"cancelled": api.cancel(other["jobId"])}), flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except ApiError as error:
        print(f"client.py: the API refused: {error}", file=sys.stderr)
        sys.exit(1)
