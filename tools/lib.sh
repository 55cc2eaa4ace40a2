# Shell functions shared by the test runners of tools/ (sourced, not run).

# free_port: a TCP port on loopback that no server listens on, neither on
# its Unix socket nor on 127.0.0.1, for a throwaway server (pg_virtualenv
# -t keeps its cluster in a temporary directory, so two runs at once do
# not collide either).  Prints 54329 when 50 random tries found none.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		[ -e "/var/run/postgresql/.s.PGSQL.$p" ] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		echo "$p"
		return
	done
	echo 54329
}
