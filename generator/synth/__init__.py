"""Synthesis: cdk8s objects, kustomize overlays and the all-or-nothing write behind `gen synth`."""
