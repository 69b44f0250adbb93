#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, when missing (needs root/apt).
# MariaDB and PostgreSQL servers, librdkafka (the Kafka mock broker), sysbench, openssl
# (the TLS tests make their own CA and server certificates with it), and what the real openGauss
# of shared/opengauss/opengauss.sh needs to unpack, start and be queried: the shared libraries
# its binaries link against (the script header's list, plus libreadline8 for gsql: readelf's
# NEEDED entries of install/bin and install/lib, checked with ldd), python3 (it picks a free
# port), xz-utils (tar -xJ), passwd (useradd omm) and util-linux (runuser); and a Java runtime for
# the real Kafka 2.4 broker of shared/kafka/kafka.sh (the tests of what the mock broker cannot show);
# and prometheus for promtool, which the metrics tests run on the /metrics output (promtool check metrics).
set -euo pipefail
need=()
have_pkg() { [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ls /usr/lib/*/librdkafka.so.1 >/dev/null 2>&1 || need+=(librdkafka1)
command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
for pkg in libcjson1 libcgroup2 libcurl4 libgomp1 libgssapi-krb5-2 libkrb5-3 liblz4-1 libminizip1 libzstd1 libssl3 libedit2 libreadline8; do
  have_pkg "$pkg" || need+=("$pkg")
done
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
command -v useradd >/dev/null 2>&1 || [ -x /usr/sbin/useradd ] || need+=(passwd)
command -v runuser >/dev/null 2>&1 || [ -x /usr/sbin/runuser ] || need+=(util-linux)
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run: sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
