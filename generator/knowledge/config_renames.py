"""Airflow's configuration options that Airflow 3.0 renamed or removed, as data.

The facts are those `airflow config lint` checks (Airflow's own list of configuration changes for 3.0),
re-expressed here as two tables: `section.option  new_section.new_option` per rename, and the options
3.0 dropped. Defaults that merely changed are left out: a value the user set keeps its meaning.
`gen upgrade` rewrites a project's `config:` overrides with them, for Airflow 2 projects moving to 3
and for Airflow 3 projects that still carry `[webserver]` options.
"""

from __future__ import annotations

from generator.model import Version

SINCE = Version(3, 0, 0)

_RENAMED = """
admin.hide_sensitive_variable_fields            core.hide_sensitive_var_conn_fields
admin.sensitive_variable_fields                 core.sensitive_var_conn_names
core.dataset_manager_class                      core.asset_manager_class
core.dataset_manager_kwargs                     core.asset_manager_kwargs
core.worker_precheck                            celery.worker_precheck
core.non_pooled_task_slot_count                 core.default_pool_task_slot_count
core.dag_concurrency                            core.max_active_tasks_per_dag
core.sql_alchemy_conn                           database.sql_alchemy_conn
core.sql_engine_encoding                        database.sql_engine_encoding
core.sql_engine_collation_for_ids               database.sql_engine_collation_for_ids
core.sql_alchemy_pool_enabled                   database.sql_alchemy_pool_enabled
core.sql_alchemy_pool_size                      database.sql_alchemy_pool_size
core.sql_alchemy_max_overflow                   database.sql_alchemy_max_overflow
core.sql_alchemy_pool_recycle                   database.sql_alchemy_pool_recycle
core.sql_alchemy_pool_pre_ping                  database.sql_alchemy_pool_pre_ping
core.sql_alchemy_schema                         database.sql_alchemy_schema
core.sql_alchemy_connect_args                   database.sql_alchemy_connect_args
core.load_default_connections                   database.load_default_connections
core.max_db_retries                             database.max_db_retries
core.dag_file_processor_timeout                 dag_processor.dag_file_processor_timeout
api.access_control_allow_origin                 api.access_control_allow_origins
api.auth_backend                                fab.auth_backends
api.auth_backends                               fab.auth_backends
api.page_size                                   api.fallback_page_limit
metrics.statsd_allow_list                       metrics.metrics_allow_list
metrics.statsd_block_list                       metrics.metrics_block_list
webserver.cookie_samesite                       fab.cookie_samesite
webserver.cookie_secure                         fab.cookie_secure
webserver.instance_name                         api.instance_name
webserver.update_fab_perms                      fab.update_fab_perms
webserver.auth_rate_limited                     fab.auth_rate_limited
webserver.auth_rate_limit                       fab.auth_rate_limit
webserver.config_file                           fab.config_file
webserver.session_backend                       fab.session_backend
webserver.session_lifetime_days                 fab.session_lifetime_minutes
webserver.force_log_out_after                   fab.session_lifetime_minutes
webserver.session_lifetime_minutes              fab.session_lifetime_minutes
webserver.access_denied_message                 fab.access_denied_message
webserver.expose_hostname                       fab.expose_hostname
webserver.navbar_color                          fab.navbar_color
webserver.navbar_text_color                     fab.navbar_text_color
webserver.navbar_hover_color                    fab.navbar_hover_color
webserver.navbar_text_hover_color               fab.navbar_text_hover_color
webserver.base_url                              api.base_url
webserver.secret_key                            api.secret_key
webserver.web_server_host                       api.host
webserver.web_server_port                       api.port
webserver.workers                               api.workers
webserver.web_server_worker_timeout             api.worker_timeout
webserver.web_server_ssl_cert                   api.ssl_cert
webserver.web_server_ssl_key                    api.ssl_key
webserver.access_logfile                        api.access_logfile
webserver.grid_view_sorting_order               api.grid_view_sorting_order
webserver.enable_swagger_ui                     api.enable_swagger_ui
webserver.log_fetch_timeout_sec                 api.log_fetch_timeout_sec
webserver.hide_paused_dags_by_default           api.hide_paused_dags_by_default
webserver.page_size                             api.page_size
webserver.default_wrap                          api.default_wrap
webserver.require_confirmation_dag_change       api.require_confirmation_dag_change
webserver.auto_refresh_interval                 api.auto_refresh_interval
webserver.enable_proxy_fix                      fab.enable_proxy_fix
webserver.proxy_fix_x_for                       fab.proxy_fix_x_for
webserver.proxy_fix_x_proto                     fab.proxy_fix_x_proto
webserver.proxy_fix_x_host                      fab.proxy_fix_x_host
webserver.proxy_fix_x_port                      fab.proxy_fix_x_port
webserver.proxy_fix_x_prefix                    fab.proxy_fix_x_prefix
webserver.expose_config                         api.expose_config
policy.airflow_local_settings                   policy.task_policy
scheduler.processor_poll_interval               scheduler.scheduler_idle_sleep_time
scheduler.deactivate_stale_dags_interval        scheduler.parsing_cleanup_interval
scheduler.statsd_on                             metrics.statsd_on
scheduler.max_threads                           dag_processor.parsing_processes
scheduler.statsd_host                           metrics.statsd_host
scheduler.statsd_port                           metrics.statsd_port
scheduler.statsd_prefix                         metrics.statsd_prefix
scheduler.statsd_allow_list                     metrics.statsd_allow_list
scheduler.stat_name_handler                     metrics.stat_name_handler
scheduler.statsd_datadog_enabled                metrics.statsd_datadog_enabled
scheduler.statsd_datadog_tags                   metrics.statsd_datadog_tags
scheduler.statsd_datadog_metrics_tags           metrics.statsd_datadog_metrics_tags
scheduler.statsd_custom_client_path             metrics.statsd_custom_client_path
scheduler.parsing_processes                     dag_processor.parsing_processes
scheduler.file_parsing_sort_mode                dag_processor.file_parsing_sort_mode
scheduler.max_callbacks_per_loop                dag_processor.max_callbacks_per_loop
scheduler.min_file_process_interval             dag_processor.min_file_process_interval
scheduler.stale_dag_threshold                   dag_processor.stale_dag_threshold
scheduler.print_stats_interval                  dag_processor.print_stats_interval
scheduler.dag_dir_list_interval                 dag_processor.refresh_interval
scheduler.local_task_job_heartbeat_sec          scheduler.task_instance_heartbeat_sec
scheduler.scheduler_zombie_task_threshold       scheduler.task_instance_heartbeat_timeout
scheduler.zombie_detection_interval             scheduler.task_instance_heartbeat_timeout_detection_interval
scheduler.child_process_log_directory           logging.dag_processor_child_process_log_directory
celery.stalled_task_timeout                     scheduler.task_queued_timeout
celery.default_queue                            operators.default_queue
celery.task_adoption_timeout                    scheduler.task_queued_timeout
kubernetes_executor.worker_pods_pending_timeout scheduler.task_queued_timeout
kubernetes_executor.worker_pods_pending_timeout_check_interval scheduler.task_queued_timeout_check_interval
triggerer.default_capacity                      triggerer.capacity
"""

_REMOVED = """
core.check_slas core.strict_dataset_uri_validation core.dag_default_view core.dag_orientation core.task_runner
core.enable_xcom_pickling core.dag_processor_manager_log_location core.log_processor_filename_template
logging.enable_task_context_logger logging.dag_processor_manager_log_location logging.dag_processor_manager_log_stdout
logging.log_processor_filename_template metrics.metrics_use_pattern_match metrics.timer_unit_consistency
traces.otel_task_log_event operators.allow_illegal_arguments webserver.allow_raw_html_descriptions
webserver.audit_view_included_events webserver.audit_view_excluded_events webserver.x_frame_enabled
webserver.error_logfile webserver.access_logformat webserver.web_server_master_timeout
webserver.worker_refresh_batch_size webserver.worker_refresh_interval webserver.reload_on_plugin_change
webserver.worker_class webserver.expose_stacktrace webserver.log_fetch_delay_sec webserver.log_auto_tailing_offset
webserver.log_animation_speed webserver.default_dag_run_display_number webserver.instance_name_has_markup
webserver.warn_deployment_exposure webserver.analytics_tool webserver.analytics_id webserver.analytics_url
webserver.show_recent_stats_for_completed_runs webserver.run_internal_api webserver.caching_hash_method
webserver.show_trigger_form_if_no_params webserver.num_recent_configurations_for_trigger
webserver.allowed_payload_size webserver.max_form_memory_size webserver.max_form_parts webserver.default_ui_timezone
webserver.navbar_logo_text_color scheduler.dependency_detector scheduler.allow_trigger_in_future
scheduler.dag_stale_not_seen_duration smtp.smtp_user smtp.smtp_password
"""

Option = tuple[str, str]  # (section, option)


def _option(text: str) -> Option:
    section, option = text.split(".", 1)
    return section, option


RENAMED: dict[Option, Option] = {_option(old): _option(new)
                                 for old, new in (line.split() for line in _RENAMED.strip().splitlines())}
REMOVED: frozenset[Option] = frozenset(_option(text) for text in _REMOVED.split())


def renamed(option: Option) -> Option | None:
    """Where Airflow 3 reads `option`, following renames of renames (webserver.page_size -> api.page_size ->
    api.fallback_page_limit); None when 3 did not rename it."""
    if option not in RENAMED:
        return None
    seen = {option}
    while option in RENAMED and RENAMED[option] not in seen:
        option = RENAMED[option]
        seen.add(option)
    return option


def removed(option: Option) -> bool:
    return option in REMOVED
