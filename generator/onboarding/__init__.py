"""Onboarding: `gen init`, `gen import` and `gen kind-config`, which make a project or a cluster to run it on."""
