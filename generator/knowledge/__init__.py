"""Knowledge: what Airflow, the chart, clusters, credentials, databases and Flux need, as rules and tables.

Reads the config through `generator.model`; never loads a config, builds objects or writes files.
"""
