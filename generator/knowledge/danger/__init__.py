"""The danger rules: what a change does to a running cluster, and the runbook that gets it through."""
