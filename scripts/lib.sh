# scripts/lib.sh: shell functions shared by vx-test, vx-demo and the benchmarks.
#
# They install what a fresh Debian 12 machine lacks, build and install the
# extension, and run a private throwaway PostgreSQL 15 cluster in a local
# folder on a free port (unix socket only, no system service).  PostgreSQL
# refuses to run as root, so when root calls these the server runs as the
# unprivileged "postgres" account created by Debian's postgresql package.
#
# Source it from bash: . "$(dirname "$0")/lib.sh"

VX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_CONFIG=${PG_CONFIG:-/usr/bin/pg_config}
export PATH="$PG_BIN:$PATH"

vx_log() { printf '\n== %s\n' "$*" >&2; }
vx_die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# vx_need_packages PKG...: apt-get install the packages that are missing
# (root only; otherwise just report them).
vx_need_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		vx_die "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
	fi
	vx_log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || vx_die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		vx_die "apt-get install ${missing[*]} failed"
}

# Packages needed to build the extension and run a cluster.
VX_BUILD_PACKAGES=(build-essential postgresql-15 postgresql-server-dev-15 libnuma-dev)

vx_build_install() {
	vx_log "building and installing vectorx"
	make -C "$VX_ROOT" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null || vx_die "build failed"
	if [ "$(id -u)" -eq 0 ] || [ -w "$($PG_CONFIG --pkglibdir)" ]; then
		make -C "$VX_ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null || vx_die "install failed"
	else
		sudo make -C "$VX_ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null || vx_die "install failed"
	fi
}

# vx_as_server CMD...: run a command as the account that owns the cluster.
vx_as_server() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# vx_free_port: print a TCP port nobody listens on.
vx_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	vx_die "no free port found"
}

# vx_cluster_dir NAME: a folder for the cluster that the server account can
# use: VX_ROOT/.vx/NAME when its path is reachable by that account, else a
# fresh folder under /tmp.
vx_cluster_dir() {
	local d="$VX_ROOT/.vx/$1"
	mkdir -p "$d"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$d"
		if ! runuser -u postgres -- test -w "$d"; then
			rm -rf "$d"
			d=$(mktemp -d "/tmp/vectorx-$1.XXXXXX")
			chown postgres: "$d"
		fi
	fi
	echo "$d"
}

# vx_cluster_start NAME [postgresql.conf lines...]: initdb (fresh) and start
# a cluster; exports PGHOST, PGPORT, PGUSER and VX_CLUSTER for libpq tools.
vx_cluster_start() {
	local name=$1
	shift
	VX_CLUSTER=$(vx_cluster_dir "$name")
	local data="$VX_CLUSTER/data"
	vx_cluster_stop_dir "$VX_CLUSTER"
	vx_as_server rm -rf "$data"
	vx_as_server "$PG_BIN/initdb" -D "$data" -U postgres -A trust --no-sync -E UTF8 --locale=C >/dev/null ||
		vx_die "initdb failed"
	local port
	port=$(vx_free_port)
	{
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$VX_CLUSTER'"
		echo "max_connections = 60"
		echo "shared_buffers = 256MB"
		echo "dynamic_shared_memory_type = posix"
		echo "max_prepared_transactions = 10"
		echo "log_min_messages = warning"
		echo "logging_collector = off"
		local line
		for line in "$@"; do echo "$line"; done
	} | vx_as_server tee -a "$data/postgresql.conf" >/dev/null
	vx_as_server "$PG_BIN/pg_ctl" -D "$data" -l "$VX_CLUSTER/server.log" -w -t 60 start >/dev/null ||
		{ tail -n 20 "$VX_CLUSTER/server.log" >&2; vx_die "server did not start"; }
	export PGHOST="$VX_CLUSTER" PGPORT="$port" PGUSER=postgres VX_CLUSTER
	vx_log "cluster $name running in $VX_CLUSTER on port $port"
}

vx_cluster_stop_dir() {
	local data="$1/data"
	if [ -f "$data/postmaster.pid" ]; then
		vx_as_server "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

vx_cluster_stop() {
	[ -n "${VX_CLUSTER:-}" ] && vx_cluster_stop_dir "$VX_CLUSTER"
}
