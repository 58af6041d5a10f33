"""Prometheus metrics of the transport, served at /metrics (prometheus-client text format)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS = Counter("jingmin_events_total", "Events received from WeChat", ["kind"], registry=REGISTRY)
SENDS = Counter("jingmin_sends_total", "Messages the transport tried to send", ["kind", "result"],
                registry=REGISTRY)
CONNECTED = Gauge("jingmin_connected", "1 while the WeChat gateway is connected", registry=REGISTRY)
RECONNECTS = Counter("jingmin_reconnects_total", "Times the gateway connection dropped", registry=REGISTRY)
OUTBOX_PENDING = Gauge("jingmin_outbox_pending", "Outbox rows waiting to be sent", registry=REGISTRY)
OUTBOX_FAILED = Gauge("jingmin_outbox_failed", "Outbox rows that failed for good", registry=REGISTRY)
LAST_EVENT = Gauge("jingmin_last_event_timestamp_seconds", "Unix time of the last event", registry=REGISTRY)


def render() -> bytes:
    return generate_latest(REGISTRY)
