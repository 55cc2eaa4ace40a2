#!/usr/bin/env python3
"""Benchmark of an import through a Citus coordinator against one server.

Called by bench/citus (which installs Citus when needed and runs this as
the postgres user); standard library only.

  citus.py DIR OUTDIR SIZE

starts, in a temporary directory, four servers on loopback ports: a Citus
coordinator and two workers, and one plain server; sets each up as the
README says (examples/citus.sql on the coordinator, examples/app_role.sql
on both, a login role "tenant" in the application role), then measures,
as that tenant with SET LOCAL upflow.organization_id in the transaction,
the import of the bench's SIZE-line file (DIR/contacts-SIZE.csv, written
by bench.py generate):

  d  into empty tables, a new organization
  e  the same file again (nothing changes)
  u  the file with 10% of positions changed and 10% of main contacts moved

on the single server and through the coordinator, BENCH_RUNS times
(default 3) with a new organization each time (on one worker, then the
other), and prints the medians and the ratios Citus / single (target for
d: 1.5).  The file is sent by psql as a text argument, as an application
sends it.  Writes OUTDIR/citus.csv and OUTDIR/citus.md.
"""

import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = f"/usr/lib/postgresql/{os.environ.get('PG_MAJOR', '15')}/bin"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGET = 1.5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, base, name, citus):
        self.name = name
        self.port = free_port()
        self.data = os.path.join(base, name)
        self.socket_dir = base
        subprocess.run([f"{BIN}/initdb", "-D", self.data, "-U", "postgres", "--auth=trust"],
                       check=True, capture_output=True)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                    f"unix_socket_directories = '{base}'\nfsync = off\n"
                    "autovacuum = off\nmax_connections = 100\n"
                    + ("shared_preload_libraries = 'citus'\n" if citus else ""))
        subprocess.run([f"{BIN}/pg_ctl", "-D", self.data, "-l", self.data + ".log", "-w", "start"],
                       check=True, capture_output=True)

    def psql(self, script, user="postgres", database="bench", variables=()):
        cmd = [f"{BIN}/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
               "-h", self.socket_dir, "-p", str(self.port), "-U", user, "-d", database]
        for name, value in variables:
            cmd += ["-v", f"{name}={value}"]
        r = subprocess.run(cmd, input=script, text=True, capture_output=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout[-2000:] + r.stderr[-4000:])
            raise SystemExit(f"bench: psql on {self.name} failed (exit {r.returncode})")
        return r.stdout

    def stop(self):
        subprocess.run([f"{BIN}/pg_ctl", "-D", self.data, "-m", "fast", "stop"], capture_output=True)


def organizations_by_worker(coordinator, count):
    """count organization ids, alternating between the workers."""
    rows = coordinator.psql(
        "SELECT o, n.nodeport FROM generate_series(1, 200) o"
        " JOIN pg_dist_placement p ON p.shardid = get_shard_id_for_distribution_column('upflow.contact', o)"
        " JOIN pg_dist_node n ON n.groupid = p.groupid ORDER BY o;\n")
    by_port = {}
    for line in rows.split():
        o, port = line.split("|")
        by_port.setdefault(port, []).append(int(o))
    ports = sorted(by_port)
    return [by_port[ports[i % len(ports)]][i // len(ports)] for i in range(count)]


def timed_import(node, org, path):
    """Seconds of one import by the tenant (the statement's own time)."""
    out = node.psql(
        "\\set content `cat " + path + "`\n"
        "BEGIN;\n"
        "SET LOCAL upflow.organization_id = :org;\n"
        "\\timing on\n"
        "SELECT 'RESULT', concat_ws(' ', i.status, 'created=' || i.created_count,"
        " 'updated=' || i.updated_count, 'unchanged=' || i.unchanged_count,"
        " 'failed=' || i.failed_count) FROM upflow.upflow_import(:org, :'content') i;\n"
        "\\timing off\n"
        "COMMIT;\n", user="tenant", variables=[("org", org)])
    seconds = None
    result = ""
    for line in out.splitlines():
        if line.startswith("Time: "):
            seconds = float(line.split()[1]) / 1000.0
        elif line.startswith("RESULT|"):
            result = line[7:]
    return seconds, result


def contents(node, org):
    """The organization's contacts and customers, ids included."""
    return node.psql(
        f"SELECT md5(string_agg(concat_ws('|', c.contact_id, c.customer_id, c.email, c.first_name,"
        f" c.family_name, c.phone, c.position, c.is_main), ',' ORDER BY c.contact_id))"
        f" FROM upflow.contact c WHERE c.organization_id = {org};\n"
        f"SELECT md5(string_agg(concat_ws('|', c.customer_id, c.external_id, c.name),"
        f" ',' ORDER BY c.customer_id)) FROM upflow.customer c WHERE c.organization_id = {org};\n")


def main(argv):
    if len(argv) != 4:
        raise SystemExit(__doc__)
    directory, outdir, size = argv[1], argv[2], int(argv[3])
    plain = os.path.join(directory, f"contacts-{size}.csv")
    changed = os.path.join(directory, f"contacts-{size}-changed.csv")
    base = tempfile.mkdtemp(prefix="upflow-citus-bench-")
    nodes = []
    try:
        coordinator = Server(base, "coordinator", True)
        nodes.append(coordinator)
        workers = [Server(base, f"worker{i}", True) for i in (1, 2)]
        nodes += workers
        single = Server(base, "single", False)
        nodes.append(single)
        # Organization ids placed first; the same ids on the single server.
        coordinator.psql("CREATE DATABASE bench;", database="postgres")
        coordinator.psql("CREATE EXTENSION citus;")
        for w in workers:
            w.psql("CREATE DATABASE bench;", database="postgres")
            w.psql("CREATE EXTENSION citus;")
        coordinator.psql(f"SELECT citus_set_coordinator_host('127.0.0.1', {coordinator.port});\n"
                         + "".join(f"SELECT citus_add_node('127.0.0.1', {w.port});\n" for w in workers))
        coordinator.psql(f"\\i {ROOT}/examples/citus.sql\n")
        orgs = organizations_by_worker(coordinator, RUNS)
        single.psql("CREATE DATABASE bench;", database="postgres")
        single.psql("CREATE EXTENSION upflow_import;")
        org_list = ", ".join(map(str, orgs))
        for node in (coordinator, single):
            node.psql(f"\\set app_role upflow_app\n\\i {ROOT}/examples/app_role.sql\n"
                      "CREATE ROLE tenant LOGIN IN ROLE upflow_app;\n"
                      f"INSERT INTO upflow.organization (organization_id, name) SELECT o, 'Bench ' || o FROM unnest(ARRAY[{org_list}]) o;\n"
                      f"SELECT upflow.enable_csv_import(o) FROM unnest(ARRAY[{org_list}]) o;\n")
        version = single.psql("SHOW server_version;\n", database="bench").strip()
        citus_version = coordinator.psql("SELECT extversion FROM pg_extension WHERE extname = 'citus';\n").strip()
        print(f"bench: Citus {citus_version} on PostgreSQL {version}: a coordinator and two workers "
              f"against one server, {os.cpu_count()} CPUs shared; {size} lines, {RUNS} runs",
              file=sys.stderr)

        measures = [("d", "into empty tables", plain), ("e", "the same file again", plain),
                    ("u", "10% positions changed, 10% main contacts moved", changed)]
        times = {(key, where): [] for key, _, _ in measures for where in ("single", "citus")}
        results = {}
        for run, org in enumerate(orgs):
            for key, label, path in measures:
                for where, node in (("single", single), ("citus", coordinator)):
                    seconds, result = timed_import(node, org, path)
                    times[(key, where)].append(seconds)
                    results[(key, where)] = result
                    print(f"bench: citus run {run + 1} org {org} {key} {where:>6} {seconds:7.2f} s {result}",
                          file=sys.stderr, flush=True)
            if contents(single, org) != contents(coordinator, org):
                raise SystemExit(f"bench: organization {org} differs between Citus and the single server")
        for key, _, _ in measures:
            if results[(key, "single")] != results[(key, "citus")]:
                raise SystemExit(f"bench: {key}: {results[(key, 'single')]} on one server, "
                                 f"{results[(key, 'citus')]} on Citus")

        os.makedirs(outdir, exist_ok=True)
        md = [f"Citus {citus_version}, PostgreSQL {version}: a coordinator and two workers on one "
              f"machine ({os.cpu_count()} CPUs, shared with the single server, which is idle while "
              f"Citus runs), fsync off; {size:,}-line file; the application role, `SET LOCAL`; "
              f"median of {RUNS} runs, a new organization each run (alternating workers); rows "
              "and ids equal on both.\n",
              "| measure | single server s | Citus s | Citus / single | target |",
              "|---|---:|---:|---:|---:|"]
        with open(os.path.join(outdir, "citus.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["size", "measure", "single_seconds", "citus_seconds", "ratio",
                        "single_runs", "citus_runs", "result"])
            for key, label, _ in measures:
                s = statistics.median(times[(key, "single")])
                c = statistics.median(times[(key, "citus")])
                w.writerow([size, key, round(s, 3), round(c, 3), round(c / s, 3),
                            " ".join(f"{x:.3f}" for x in times[(key, "single")]),
                            " ".join(f"{x:.3f}" for x in times[(key, "citus")]),
                            results[(key, "citus")]])
                target = f"≤ {TARGET}" if key == "d" else ""
                flag = " ✗" if key == "d" and c / s > TARGET else ""
                md.append(f"| {key}: {label} | {s:.2f} | {c:.2f} | {c / s:.2f}{flag} | {target} |")
        text = "\n".join(md) + "\n"
        with open(os.path.join(outdir, "citus.md"), "w") as f:
            f.write(text)
        print(text)
    finally:
        for node in nodes:
            node.stop()
        subprocess.run(["rm", "-rf", base])


if __name__ == "__main__":
    main(sys.argv)
