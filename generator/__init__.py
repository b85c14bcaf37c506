"""gen: GitOps-ready Kubernetes manifests for Apache Airflow."""

__version__ = "0.1.0"
