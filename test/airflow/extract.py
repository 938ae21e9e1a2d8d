"""Prints, as JSON, the command lines of a DAG file without importing Airflow: the module-level
constants and functions are executed from the file's own syntax tree; everything else is left out."""
import ast
import json
import sys

tree = ast.parse(open(sys.argv[1]).read())
keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.FunctionDef))
        or (isinstance(n, ast.Assign) and not isinstance(n.value, ast.Call))]
ns = {}
exec(compile(ast.Module(body=keep, type_ignores=[]), sys.argv[1], "exec"), ns)
print(json.dumps({
    "home": ns["BRAZESYNC_HOME"],
    "check": ns["bash_command"](ns["CHECK_ARGS"]),
    "sync": ns["bash_command"](ns["SYNC_ARGS"]),
    "pod_cmd": ns["BRAZESYNC"],
    "pod_args": ns["POD_SYNC_ARGS"],
    "pod_report": ns["POD_REPORT"],
}))
