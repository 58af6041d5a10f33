"""Prometheus metrics of the transport, served at /metrics (prometheus-client text format)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter("jingmin_events_total", "Events received from WeChat", ["kind"], registry=REGISTRY)
SENDS = Counter("jingmin_sends_total", "Messages the transport tried to send", ["kind", "result"],
                registry=REGISTRY)
CONNECTED = Gauge("jingmin_connected", "1 while the WeChat gateway is connected", registry=REGISTRY)
RECONNECTS = Counter("jingmin_reconnects_total", "Times the gateway connection dropped and was tried again",
                     registry=REGISTRY)
DROPPED_EVENTS = Counter("jingmin_dropped_events_total",
                         "Events from the gateway that could not be read or converted (reason: unreadable, "
                         "unknown, convert, timeout, listener)", ["reason"], registry=REGISTRY)
GATEWAY_ERRORS = Counter("jingmin_gateway_errors_total", "Error events the gateway sent", registry=REGISTRY)
LAST_OUTAGE = Gauge("jingmin_last_outage_seconds", "How long the last gateway outage lasted", registry=REGISTRY)
WATCHDOG = Counter("jingmin_watchdog_total", "What the watchdog did about a silent gateway (ding, reconnect)",
                   ["action"], registry=REGISTRY)
LOOP_RESTARTS = Counter("jingmin_event_loop_restarts_total", "Times the event loop itself ended and was restarted",
                        registry=REGISTRY)
ATTACHMENT_FAILURES = Counter("jingmin_attachment_failures_total", "Images and files that could not be fetched",
                              registry=REGISTRY)
OUTBOX_PENDING = Gauge("jingmin_outbox_pending", "Outbox rows waiting to be sent", registry=REGISTRY)
OUTBOX_FAILED = Gauge("jingmin_outbox_failed", "Outbox rows that failed for good", registry=REGISTRY)
LAST_EVENT = Gauge("jingmin_last_event_timestamp_seconds", "Unix time of the last event", registry=REGISTRY)
LAST_HEARTBEAT = Gauge("jingmin_last_heartbeat_timestamp_seconds", "Unix time of the last heartbeat",
                       registry=REGISTRY)


def render() -> bytes:
    return generate_latest(REGISTRY)
