#!/usr/bin/env bash
# The test MariaDB: Debian's mariadb-server on 127.0.0.1:3306, root reachable over TCP with an
# empty password (loopback test setup only), a "test" database; started when stopped, then
# waited for. Idempotent. Root only.
set -euo pipefail
[ -x /usr/sbin/mariadbd ] || { echo "test-mariadb: mariadb-server is not installed" >&2; exit 1; }
mkdir -p /etc/mysql/mariadb.conf.d
printf '[mysqld]\nbind-address = 127.0.0.1\nport = 3306\nmax_connections = 500\n' \
  > /etc/mysql/mariadb.conf.d/99-fleetstat-test.cnf
# mysqladmin ping succeeds even when access is denied: it only says the server is up.
alive() { mysqladmin -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1; }
root_over_tcp() { mariadb -h 127.0.0.1 -P 3306 -u root -e 'select 1' >/dev/null 2>&1; }
if ! alive; then
  if [ ! -d /var/lib/mysql/mysql ]; then
    mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  fi
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
  # The root account may still be socket-only: wait on the socket, then open it to loopback TCP.
  if ! mysqladmin --protocol=socket -u root ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --chuid mysql --exec /usr/sbin/mariadbd
  fi
  for _ in $(seq 1 60); do
    mysqladmin --protocol=socket -u root ping >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
for _ in $(seq 1 60); do
  alive && break
  sleep 0.5
done
if ! root_over_tcp; then
  mariadb --protocol=socket -u root <<'SQL'
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
fi
root_over_tcp
mariadb -h 127.0.0.1 -P 3306 -u root -e 'CREATE DATABASE IF NOT EXISTS test'
