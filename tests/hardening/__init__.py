"""Hardening tests (issue 5, sections 1-3): hostile input, fault-safe output, differential."""
