"""The cold-start bench measures every function of the template: each one's init runs as the bench runs it."""

from __future__ import annotations

from bench import coldstart


def test_the_cold_start_bench_measures_every_function_and_its_table_client() -> None:
    targets, _ = coldstart.discover()
    assert {"webhook_intake", "inbound_sms", "status_callback", "call_forwarding"} <= {t.name for t in targets}
    for target in targets:
        figures = coldstart.measure(target)
        assert figures["init_cpu_ms"] > 0, target.name
        assert 5_000 < figures["peak_rss_kb"] < 400_000, f"{target.name}: peak RSS {figures['peak_rss_kb']} kB"
        if target.name != "console":
            assert figures["client_ms"] is not None, f"{target.name}: the table client was not found after init"
        if target.webhook:
            assert figures["loaded"] == [], f"{target.name} loads {figures['loaded']} at init"
