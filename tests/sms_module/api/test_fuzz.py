"""Schemathesis against the API's own OpenAPI description (issue 13, "Done when"): valid
and invalid requests, authenticated with a real shop token, never get a 5xx.

Deterministic and bounded: a fixed number of examples per operation, derandomized, no
example database; both generation modes (inside and outside the schema)."""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from plugins.sms_module.api import tokens
from plugins.sms_module.api.openapi import SPEC
from tests.support_sms import ready_to_send

EXAMPLES = 100

CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
        }
    }
)


@pytest.fixture
def api_token(app, shops):
    """A live token of shop A, which may send to its customer."""
    with app.app_context():
        ready_to_send(shops)
        _row, text = tokens.create_token(shops["a"]["shop"], "fuzzer", None)
    return text


# The description as served: JSON, loaded once at import (schemathesis's lazy fixture loader
# does not run on pytest 9); ``test_the_fuzzed_description_is_the_served_one`` ties the two.
DESCRIPTION = json.loads(json.dumps(SPEC))
schema = schemathesis.openapi.from_dict(DESCRIPTION, config=CONFIG)


def test_the_fuzzed_description_is_the_served_one(client):
    assert client.get("/api/v1/openapi.json").get_json() == DESCRIPTION


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, app, api_token):
    case.call_and_validate(
        app=app,
        headers={"Authorization": f"Bearer {api_token}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance],
    )
