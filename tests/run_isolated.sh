#!/bin/sh
# Runs one integration or scenario test in a private network namespace whose only interface is
# loopback (brought up here), so no test, and no agent a test starts, can send a packet beyond
# this machine: the probe collector's default-gateway probes, for instance, find no gateway.
# Tests that build topologies create their own namespaces from inside this one.
# As non-root there is no private namespace (most such tests need root anyway).
if [ "$(id -u)" = 0 ]; then
  exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
fi
exec "$@"
