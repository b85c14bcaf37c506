"""Plumbing: errors, YAML reading and writing, the cache, file output, starting cdk8s, Helm values as mappings.

Imports nothing of gen but the config schema's error formatter.
"""
