"""The operator's queues page and ``GET /metrics`` for Prometheus (PRODUCT.md §7).

Both show the same cluster-wide figures (``monitoring.py``): backlog per queue and when it
will drain, each sender number's rate and last send, the carrier's failures and the rules'
refusals by code, send latency and the simulator's rate breaches. The page alone also
shows each shop's share of each queue and when its last due message leaves (issue 14,
``forecast.py``); ``/metrics`` names no shop or customer.

``/metrics`` answers the operator's logged-in browser, or a scraper sending
``Authorization: Bearer <SMS_METRICS_TOKEN>`` when that setting (or environment variable)
is set. Anyone else gets 401, a logged-in shop user 403. A Prometheus scrape job::

    - job_name: crm-sms
      metrics_path: /metrics
      authorization: {type: Bearer, credentials: "<SMS_METRICS_TOKEN>"}
      static_configs: [{targets: ["crm.example.com"]}]
"""

from __future__ import annotations

import hmac
import math
from collections.abc import Iterator

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_login import current_user
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from host.api import roles_required, utcnow
from plugins.sms_module.sending import forecast, monitoring
from plugins.sms_module.texts.labels import queue_label, state_label
from plugins.sms_module.texts.reasons import failure_text

bp = Blueprint("sms_operations", __name__, template_folder="../templates")


@bp.get("/sms/operations/")
@roles_required()
def index():
    """Show the queues, sender numbers, failures and latencies (operator only)."""
    return render_template(
        "sms_module/operations.html",
        figures=monitoring.snapshot(),
        shares=forecast.shop_shares(utcnow()),
        percent=format_percent,
        seconds=_seconds,
        queue_label=queue_label,
        state_label=state_label,
        number=_number,
        stage_label=_stage_label,
        no_code=monitoring.NO_CODE,
        failure_text=failure_text,
        quantiles=monitoring.QUANTILES,
    )


@bp.get("/metrics")
def metrics():
    """Expose the figures in Prometheus's text format (operator or bearer token)."""
    refusal = _refusal()
    if refusal is not None:
        return refusal
    body = generate_latest(SmsCollector(monitoring.snapshot()))
    return Response(
        body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    )


def _refusal() -> Response | None:
    token = current_app.config.get("SMS_METRICS_TOKEN") or ""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, given = header.partition(" ")
        if (
            token
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), token.encode())
        ):
            return None
        return _unauthorized(_("The metrics token is wrong."))
    if not current_user.is_authenticated:
        return _unauthorized(_("Log in as the operator, or send the metrics token."))
    if not current_user.is_operator:
        abort(403)
    return None


def _unauthorized(message: str) -> Response:
    return Response(
        message + "\n",
        status=401,
        mimetype="text/plain",
        headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
    )


class SmsCollector(Collector):
    """Turn one snapshot into Prometheus metric families."""

    def __init__(self, figures: monitoring.Snapshot) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        f = self.figures
        queue_gauges = {
            "backlog_messages": ("Messages due, queued or sending.", "due_messages"),
            "backlog_segments": ("Segments of the due backlog.", "due_segments"),
            "scheduled_messages": ("Messages scheduled for later.", "later_messages"),
            "scheduled_segments": ("Segments scheduled for later.", "later_segments"),
            "capacity_segments_per_second": ("Sum of the enabled numbers' rates.", "capacity"),
            "drain_seconds": (
                "Seconds until the due backlog is sent (+Inf: never).",
                "drain_seconds",
            ),
        }
        for name, (doc, attr) in queue_gauges.items():
            gauge = GaugeMetricFamily(f"sms_queue_{name}", doc, labels=["queue"])
            for q in f.queues:
                gauge.add_metric(
                    [q.queue.value], q.drain_seconds if attr is None else getattr(q, attr)
                )
            yield gauge

        yield from self._numbers()

        failed = GaugeMetricFamily(
            "sms_messages_failed",
            "Messages that became Failed or Undelivered in the window, by failure code.",
            labels=["code", "window"],
        )
        for window, codes in f.failures.items():
            for code, count in sorted(codes.items()):
                failed.add_metric([code, window], count)
        yield failed

        refused = GaugeMetricFamily(
            "sms_messages_refused",
            "Messages a rule refused before the carrier had them, in the window, by rule code.",
            labels=["code", "window"],
        )
        for window, codes in f.refusals.items():
            for code, count in sorted(codes.items()):
                refused.add_metric([code, window], count)
        yield refused

        latency = GaugeMetricFamily(
            "sms_send_latency_seconds",
            "Send latency over the last hour (due_to_sending, sending_to_sent), nearest rank.",
            labels=["stage", "quantile"],
        )
        samples = GaugeMetricFamily(
            "sms_send_latency_samples", "Messages measured over the last hour.", labels=["stage"]
        )
        for stage in f.latencies:
            samples.add_metric([stage.stage], stage.samples)
            for q, value in stage.quantiles.items():
                latency.add_metric([stage.stage, f"{q:g}"], value)
        yield latency
        yield samples

        yield GaugeMetricFamily(
            "sms_redis_up", "1 when Redis answered this scrape.", value=int(f.redis_up)
        )

    def _numbers(self) -> Iterator[Metric]:
        f = self.figures
        labels = ["number", "queue"]
        rate = GaugeMetricFamily(
            "sms_sender_rate_segments_per_second", "The number's carrier rate.", labels=labels
        )
        enabled = GaugeMetricFamily("sms_sender_enabled", "1 when the number sends.", labels=labels)
        last = GaugeMetricFamily(
            "sms_sender_last_send_timestamp_seconds",
            "When the number last sent (Unix time); absent if never.",
            labels=labels,
        )
        messages = GaugeMetricFamily(
            "sms_sender_sent_messages_last_hour", "Messages sent in the last hour.", labels=labels
        )
        segments = GaugeMetricFamily(
            "sms_sender_sent_segments_last_hour", "Segments sent in the last hour.", labels=labels
        )
        breaches = CounterMetricFamily(
            "sms_simulator_rate_breaches",
            "Sends the carrier simulator saw above the number's rate.",
            labels=labels,
        )
        for n in f.numbers:
            key = [n.number, n.queue.value]
            rate.add_metric(key, n.rate)
            enabled.add_metric(key, int(n.enabled))
            if n.last_sent_at is not None:
                last.add_metric(key, n.last_sent_at.timestamp())
            messages.add_metric(key, n.sent_messages)
            segments.add_metric(key, n.sent_segments)
            if n.breaches is not None:
                breaches.add_metric(key, n.breaches)
        yield from (rate, enabled, last, messages, segments)
        if f.breaches is not None:
            yield breaches


def _seconds(value: float) -> str:
    if math.isinf(value):
        return _("never: no enabled number")
    return _("%(seconds)s s", seconds=format_decimal(round(value, 1), format="#,##0.0"))


def _number(value: float) -> str:
    """A rate or a capacity in segments per second, the reader's way ("0,5", "0.5")."""
    return format_decimal(value, format="#,##0.###")


def _stage_label(stage: str) -> str:
    return {
        "due_to_sending": _("From due to Sending"),
        "sending_to_sent": _("From Sending to Sent"),
    }.get(stage, stage)
