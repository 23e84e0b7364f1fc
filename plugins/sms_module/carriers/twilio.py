"""Twilio as a ``Carrier``, through the official SDK: with ``webhooks`` (Twilio's signature),
the only module that imports ``twilio``.

``TWILIO_API_BASE_URL`` aims the SDK at a mock (Stoplight Prism in the contract test):
the SDK's ``edge``/``region`` settings only rewrite ``*.twilio.com`` host names, so a custom
HTTP client rewrites ``https://api.twilio.com`` instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from plugins.sms_module.carriers.base import CarrierError, CarrierMessage

TWILIO_API = "https://api.twilio.com"
# A crash-recovery search covers minutes of one sender-recipient pair. It asks for the pair
# with no date filter: Twilio filters by DateSent only, and a message Twilio still holds
# (queued behind the number's rate) has no date_sent yet, yet is ours all the same. One page
# (the API's largest, newest first) holds the pair's latest 1,000 messages: every match.
FIND_PAGE_SIZE = 1000
# The daily audit lists a whole day, page after page.
LIST_PAGE_SIZE = 1000


class BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's HTTP client, sending ``https://api.twilio.com`` requests to ``base_url``."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/") if base_url else None
        # Test-only hook: e.g. Prism's ``Prefer`` header, which picks the mock's answer.
        self.extra_headers: dict[str, str] = extra_headers if extra_headers is not None else {}

    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send the request to the configured base URL, with any extra headers."""
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        if self.extra_headers:
            headers = {**(headers or {}), **self.extra_headers}
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def _error_from_body(text: str | None) -> tuple[int | None, str | None]:
    """Return Twilio's error ``code`` and ``message`` from an error answer's body."""
    try:
        payload = json.loads(text or "")
    except ValueError:
        return None, None
    if not isinstance(payload, dict):
        return None, None
    code = payload.get("code")
    message = payload.get("message") or payload.get("detail") or payload.get("title")
    return (code if isinstance(code, int) else None), message


def carrier_error(exc: Exception) -> CarrierError:
    """Translate what the SDK raised into a ``CarrierError``, transient or final."""
    if isinstance(exc, requests.RequestException):
        # Timeouts and refused or dropped connections: the carrier may not have seen it.
        return CarrierError(f"Twilio unreachable: {exc}", transient=True)
    status: int | None = None
    code: int | None = None
    message = str(exc)
    if isinstance(exc, TwilioRestException):
        status, code, message = exc.status, exc.code, exc.msg or message
    elif isinstance(exc, TwilioServiceException):
        status, code, message = exc.status, exc.code, exc.detail or exc.title
    elif isinstance(exc, TwilioException) and len(exc.args) > 1:
        # Listing wraps a non-200 answer as TwilioException("Unable to fetch page", response).
        response = exc.args[1]
        if isinstance(response, Response):
            status = response.status_code
            code, body_message = _error_from_body(response.text)
            message = f"{exc.args[0]}: {body_message}" if body_message else str(exc.args[0])
    if status is None:
        # An answer the SDK could not read: the carrier is misbehaving, which may pass.
        return CarrierError(f"Twilio error: {message}", transient=True)
    if code == status:
        code = None  # the SDK fills in the HTTP status when Twilio gave no error code
    transient = status == 429 or status >= 500
    return CarrierError(message, code=code, status=status, transient=transient)


def _message(instance: Any) -> CarrierMessage:
    """Return the carrier-neutral view of an SDK ``MessageInstance``."""
    return CarrierMessage(
        sid=instance.sid,
        status=str(instance.status),
        to=instance.to,
        from_=instance.from_,
        error_code=instance.error_code,
        error_message=instance.error_message,
        date_created=instance.date_created,
        body=instance.body,
        date_sent=instance.date_sent,
    )


class TwilioCarrier:
    """Send and look up SMS through Twilio's Messages API."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str | None = None,
        timeout: float = 10,
        *,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.http_client = BaseUrlHttpClient(
            api_base_url, timeout=timeout, extra_headers=extra_headers
        )
        self.client = Client(account_sid, auth_token, http_client=self.http_client)

    @property
    def extra_headers(self) -> dict[str, str]:
        """Headers added to every request (a test hook, e.g. Prism's ``Prefer``)."""
        return self.http_client.extra_headers

    def send(self, *, to: str, from_: str, body: str, status_callback: str) -> CarrierMessage:
        """Create the message at Twilio; raise ``CarrierError`` when it refuses."""
        try:
            instance = self.client.messages.create(
                to=to, from_=from_, body=body, status_callback=status_callback
            )
        except (TwilioException, requests.RequestException) as exc:
            raise carrier_error(exc) from exc
        return _message(instance)

    def fetch(self, sid: str) -> CarrierMessage | None:
        """Return Twilio's message ``sid``, or ``None`` if Twilio has none."""
        try:
            instance = self.client.messages(sid).fetch()
        except (TwilioException, requests.RequestException) as exc:
            error = carrier_error(exc)
            if error.status == 404:
                return None
            raise error from exc
        return _message(instance)

    def find(self, *, to: str, from_: str, created_after: datetime) -> list[CarrierMessage]:
        """Return the messages Twilio recorded from ``from_`` to ``to`` since
        ``created_after`` (one request; see ``FIND_PAGE_SIZE``)."""
        try:
            page = self.client.messages.page(to=to, from_=from_, page_size=FIND_PAGE_SIZE)
            found = [_message(instance) for instance in page]
        except (TwilioException, requests.RequestException) as exc:
            raise carrier_error(exc) from exc
        return [m for m in found if m.date_created is None or m.date_created >= created_after]

    def list_sent(self, day: date) -> Iterator[list[CarrierMessage]]:
        """Yield Twilio's messages sent on the UTC ``day`` (``DateSent>`` and ``DateSent<``),
        one page of ``LIST_PAGE_SIZE`` per request, following ``next_page_uri``."""
        start = datetime.combine(day, time.min, tzinfo=UTC)
        try:
            page = self.client.messages.page(
                date_sent_after=start,
                date_sent_before=start + timedelta(days=1),
                page_size=LIST_PAGE_SIZE,
            )
        except (TwilioException, requests.RequestException) as exc:
            raise carrier_error(exc) from exc
        while page is not None:
            yield [_message(instance) for instance in page]
            try:
                page = page.next_page()
            except (TwilioException, requests.RequestException) as exc:
                raise carrier_error(exc) from exc
