"""Switchboard's benchmarks: `python -m bench` (or `make bench`) prints every figure and writes bench/RESULTS.md.

1. cold start per function beside a bare handler (bench.coldstart), 2. DynamoDB requests per operation
(bench.inprocess) and 3. overhead over the floor (bench.overhead), both with the handlers in-process against
DynamoDB Local (bench.harness), 4. local load through the local gateway (bench.load), 5. the cost model
(bench.cost). Figures, never assertions.
"""
