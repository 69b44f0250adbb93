#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, when missing (needs root/apt).
# MariaDB and PostgreSQL servers, librdkafka (the Kafka mock broker), sysbench, and openssl
# (the TLS tests make their own CA and server certificates with it).
set -euo pipefail
need=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ls /usr/lib/*/librdkafka.so.1 >/dev/null 2>&1 || need+=(librdkafka1)
command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
