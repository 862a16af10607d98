#!/bin/bash
${directives}
# brownthrower pilot of dispatcher ${dispatcher}, written by bt-dispatcher ${version}.
# The runner reads the database URL from $$BT_DATABASE_URL or from the 0600 file named by
# $$BT_CONFIG, both passed in the environment: it never appears here nor on a command line.
if [ -z "$${BT_DATABASE_URL:-}" ] && [ -z "$${BT_CONFIG:-}" ]; then
  echo "brownthrower pilot: neither BT_DATABASE_URL nor BT_CONFIG reached this job's environment" >&2
  exit 78
fi
# The banner names the runner's pid (exec keeps it) and host: the dispatcher finds the runner by them.
echo "brownthrower pilot $${SLURM_JOB_ID:-local} pid $$$$ on $$(uname -n) at $$(date -Is)"
exec ${command}
