#!/bin/sh
# The PostgreSQL server that scripts/local_pg.py runs as a stand-in for an Aurora PostgreSQL writer:
# Debian's postgresql-15 (server binaries in /usr/lib/postgresql/15/bin; the package also creates the
# postgres user that the server runs as when the tests run as root).
# Installed with apt-get when missing and this runs as root (CI does); otherwise says how to install it.
set -eu
BINDIR=/usr/lib/postgresql/15/bin
if [ -x "$BINDIR/initdb" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure_postgresql: $BINDIR/initdb is missing; install Debian's PostgreSQL 15 server (sudo apt-get install --no-install-recommends postgresql-15) for the database tests" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
}
echo "ensure_postgresql: $("$BINDIR/postgres" --version)"
