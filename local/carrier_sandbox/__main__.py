"""`python -m local.carrier_sandbox --data-dir .local/carrier --port 8765`: run the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
from pathlib import Path
from types import FrameType

from local.carrier_sandbox import CarrierSandbox


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.carrier_sandbox", description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path(".local/carrier"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-base-url", help="the URL clients use, when not http://host:port")
    parser.add_argument("--order-step-seconds", type=float, default=60.0, help="time per hosted-order status")
    parser.add_argument("--message-delays", default="0.05,0.05,0.1", help="seconds before sending, sent and delivered")
    parser.add_argument("--lenient-from", action="store_true", help="accept any From (no 21606)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")

    sandbox = CarrierSandbox(
        args.data_dir,
        args.host,
        args.port,
        api_base_url=args.api_base_url,
        message_delays=tuple(float(d) for d in args.message_delays.split(",") if d.strip()),
        order_step_seconds=args.order_step_seconds,
        strict_from=not args.lenient_from,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    sandbox.start()
    print(f"carrier sandbox on {sandbox.url} (account {sandbox.account_sid}; token at /sandbox/account)", flush=True)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


if __name__ == "__main__":
    main()
