"""brazesync on Airflow: check the spec (no retries), then sync (retried), with the run report in XCom.

The command lines are the module-level constants and `bash_command` below; test/airflow parses this
file with Python's ast module (Airflow is not needed) and runs exactly these command lines against
the emulators. Deployment assumptions: the release's bin/ and the spec live in BRAZESYNC_HOME, and
BRAZE_API_KEY / BRAZE_ENDPOINT come from an Airflow connection or the worker's environment.
"""
import shlex

BRAZESYNC_HOME = "/opt/brazesync"
BRAZESYNC = BRAZESYNC_HOME + "/bin/brazesync"
SPEC = BRAZESYNC_HOME + "/spec.yml"
REPORT = BRAZESYNC_HOME + "/brazesync-report.json"

# `check` changes no profile; exit 1/2 means the spec or the key is wrong, so it is never retried.
CHECK_ARGS = ["check", SPEC]
# `sync` writes the report to REPORT; logs go to stderr as JSON lines (the task log).
SYNC_ARGS = ["sync", "--report", REPORT, "--progress", "none", "--log-format", "json", SPEC]
# In a pod, the report goes where KubernetesPodOperator reads XCom from.
POD_REPORT = "/airflow/xcom/return.json"
POD_SYNC_ARGS = ["sync", "--report", POD_REPORT, "--progress", "none", "--log-format", "json", SPEC]

# The pod's spec, mounted from the ConfigMap "brazesync-spec" at SPEC. A pod keeps no disk between
# runs, so the sync state lives in Snowflake (state: {backend: snowflake}, docs/state-snowflake.md):
# each pod imports it, sends only what changed, uploads what Braze accepted. pushdown: true lets
# Snowflake itself hold back the rows that did not change. The Snowflake key is the secret
# "brazesync-snowflake" mounted at /var/run/secrets/brazesync.
POD_SPEC_YAML = """\
kind: source
spec:
  name: snowflake
  path: /opt/brazesync/bin/snowflake-source
  registry: local
  tables: ["*"]
  destinations: [braze]
  spec:
    account: "${SNOWFLAKE_ACCOUNT}"
    user: BRAZESYNC
    private_key_path: /var/run/secrets/brazesync/rsa_key.p8
    warehouse: BRAZESYNC_WH
    role: BRAZESYNC_ROLE
    database: BRAZE
    schema: PUBLIC
    queries:
      - name: first_sessions
        sql: >-
          SELECT EXTERNAL_USER_ID AS EXTERNAL_ID, PLATFORM AS "braze[platform]", APP_ID AS "braze[app]"
          FROM USERS_BEHAVIORS_APP_FIRSTSESSION
        pushdown: true
---
kind: destination
spec:
  name: braze
  path: /opt/brazesync/bin/braze-destination
  registry: local
  write_mode: append  # mirror mode needs every key, which pushdown holds back
  spec:
    api_key: "${BRAZE_API_KEY}"
    endpoint: "${BRAZE_ENDPOINT}"
    update_existing_only: false  # create the users Braze does not know yet
    export_value: FIRST_SESSION
    state:
      backend: snowflake
      account: "${SNOWFLAKE_ACCOUNT}"
      user: BRAZESYNC
      private_key_path: /var/run/secrets/brazesync/rsa_key.p8
      warehouse: BRAZESYNC_WH
      role: BRAZESYNC_ROLE
      database: BRAZE  # brazesync's tables go to BRAZE.BRAZESYNC, created if absent
"""

# Exit codes (docs/operations.md): 0 ok, 1 failed (retry), 2 config (never retry: `check` catches
# it first), 3 auth or unreachable, 4 plugin failure (retry), 130 cancelled.


def bash_command(args):
    """The shell line for args. For sync, the report is printed last, on one line, so BashOperator
    pushes it to XCom; the task's exit code stays brazesync's."""
    line = " ".join(shlex.quote(a) for a in [BRAZESYNC] + args)
    if args[0] != "sync":
        return line
    return (line + "; code=$?; tr -d '\\n' < " + shlex.quote(REPORT) + " 2>/dev/null; echo; "
            + "exit $code")


try:  # the DAG itself: only where Airflow is installed
    from datetime import datetime, timedelta

    from airflow import DAG
    from airflow.operators.bash import BashOperator
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.cncf.kubernetes.secret import Secret
    from kubernetes.client import models as k8s
except ImportError:  # parsed by test/airflow without Airflow
    DAG = None

if DAG is not None:
    with DAG(
        dag_id="brazesync_vip_users",
        schedule="0 6 * * *",
        start_date=datetime(2025, 1, 1),
        catchup=False,
        max_active_runs=1,  # two syncs of one audience at once would race on the same profiles
        default_args={"owner": "data", "retries": 0},
    ) as dag:
        check = BashOperator(task_id="check", bash_command=bash_command(CHECK_ARGS), cwd=BRAZESYNC_HOME,
                             do_xcom_push=False)
        sync = BashOperator(
            task_id="sync",
            bash_command=bash_command(SYNC_ARGS),
            cwd=BRAZESYNC_HOME,
            # Exit 1, 3 (unreachable) and 4 are worth retrying: updates are idempotent sets. Exit 2
            # (config) cannot happen here once `check` passed, short of the spec changing in between.
            retries=3,
            retry_delay=timedelta(minutes=5),
            retry_exponential_backoff=True,
            execution_timeout=timedelta(hours=2),
        )
        check >> sync

        # The same in a pod of the container image (bin/ baked in), with POD_SPEC_YAML mounted at
        # SPEC from the ConfigMap "brazesync-spec" and the state in Snowflake: any pod, on any node,
        # picks up where the last one stopped. A second pod started while one runs is refused by
        # the state's lock (exit 2, naming the holder); a pod killed mid-run leaves its lock to
        # expire after state.lock_timeout (10 minutes), then the next run takes it over.
        pod_sync = KubernetesPodOperator(
            task_id="sync_in_pod",
            name="brazesync",
            image="registry.example.com/brazesync:latest",
            cmds=[BRAZESYNC],
            arguments=POD_SYNC_ARGS,
            env_vars={"BRAZE_ENDPOINT": "https://rest.iad-01.braze.com", "SNOWFLAKE_ACCOUNT": "xy12345.eu-west-1"},
            # Secrets from Kubernetes, never in the DAG: the Braze key as an environment variable,
            # the Snowflake key as a file.
            secrets=[Secret("env", "BRAZE_API_KEY", "brazesync", "api-key"),
                     Secret("volume", "/var/run/secrets/brazesync", "brazesync-snowflake")],
            volumes=[k8s.V1Volume(name="spec", config_map=k8s.V1ConfigMapVolumeSource(name="brazesync-spec"))],
            volume_mounts=[k8s.V1VolumeMount(name="spec", mount_path=SPEC, sub_path="spec.yml", read_only=True)],
            do_xcom_push=True,
            retries=3,
            retry_delay=timedelta(minutes=11),  # a killed pod's lock expires after state.lock_timeout (10 min)
            termination_grace_period=60,  # above --shutdown-timeout (30 s): SIGTERM finishes requests in flight
        )
