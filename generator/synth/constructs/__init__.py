"""cdk8s constructs, one per concern. Each takes only its slice of the config."""
