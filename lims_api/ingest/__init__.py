"""Results coming in and going out: HTTP and MQTT ingest, chain checks, heartbeats, result queries."""
