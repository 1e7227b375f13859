"""Fault and abuse tests: crawls under injected faults, killed exports, malformed bodies, bad
input, secrets, concurrency and property tests of pagination and exports."""
