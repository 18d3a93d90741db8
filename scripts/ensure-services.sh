#!/usr/bin/env bash
# Make sure the local services the integration tests talk to are up (PostgreSQL, Mosquitto).
# A missing service is a loud failure: the tests that need it do not skip.
set -euo pipefail

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "PostgreSQL is down: starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

if ! (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
  echo "Mosquitto is down: starting it"
  mosquitto -d -c /etc/mosquitto/mosquitto.conf
  sleep 1
fi
