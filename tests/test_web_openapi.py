"""Property-based tests of the HTTP API from its own OpenAPI document (schemathesis): for
generated requests, valid and invalid, the server never fails (5xx), answers only with the
statuses and content types it documents, and its JSON matches the documented schemas."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import schemathesis
from conftest import RULES
from evidencedata import blank_png, receipt_case, zipped
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from webdesk import Clock

from engine import load_rules
from engine.web import create_app

pytestmark = pytest.mark.slow  # a real subprocess, server, browser or cluster

_app = create_app(
    load_rules(RULES), Path(tempfile.mkdtemp(prefix="adjudicate-openapi-")) / "desk.sqlite3",
    clock=Clock(),
)  # fmt: skip
schema = schemathesis.openapi.from_asgi("/openapi.json", _app, headers={"host": "127.0.0.1"})
# bundles posted as .zip: whole ones, hostile ones and any bytes at all
_TYPED = "      signer_name: 张伟\n"
schemathesis.openapi.media_type("application/zip", st.one_of(
    st.sampled_from([
        zipped({"case.yaml": receipt_case(typed=_TYPED), "slip.png": blank_png()}),
        zipped({"case.yaml": receipt_case(), "../slip.png": b"x"}),
        zipped({"slip.png": blank_png()}),
        b"PK\x03\x04 not a zip",
    ]),
    st.binary(max_size=256),
))  # fmt: skip
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is not a lottery
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"host": "127.0.0.1"}, checks=CHECKS)
