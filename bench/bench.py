#!/usr/bin/env python3
"""Benchmark of upflow_import against COPY and a hand-written SQL pipeline.

Called by bench/run (which starts the throwaway server); standard library
only.  Two sub-commands:

  bench.py generate DIR SIZES...   write the contact files (deterministic)
  bench.py measure DIR OUTDIR SIZES...
                                   run the measurements against the server
                                   named by PGHOST/PGPORT/PGUSER/PGDATABASE,
                                   write OUTDIR/results.csv, ratios.csv
                                   and results.md, print the table

Measurements, for each size (median of BENCH_RUNS runs, default 3):
  a  COPY of the file (server-side path) into a temporary table: the floor
  b  hand-written pipeline: COPY into a temporary table, INSERT customers
     ... ON CONFLICT DO UPDATE, INSERT contacts ... ON CONFLICT DO UPDATE,
     demote then promote main contacts, in one transaction, empty tables
  c  SELECT count(*) FROM upflow.parse_csv(pg_read_file(path))
  d  upflow.upflow_import(org, pg_read_file(path)) into empty tables
  e  the same import again, file unchanged (the first one run in the
     setup, then VACUUM ANALYZE, as autovacuum would have done between two
     imports)
  f  the file with 10% erroneous lines, into empty tables
  w  the floor of writing: COPY of the resolved contact rows (taken from an
     import) straight into upflow.contact, its customers there, with its
     indexes and foreign keys
  u  the file with 10% of positions changed and 10% of main contacts moved,
     over the plain file imported (vacuumed and analyzed)
  dr d while another session runs ANALYZE upflow.customer, upflow.contact
     every 2 seconds (the import's rows uncommitted: it sees none)
  ds d after a 1,000-line import of another organization, analyzed
  bt b and dt d for a new organization, the tables holding four other
     organizations' customers and contacts (the same client ids), analyzed

b is written as a careful engineer writes it: the staging table and the
target tables analyzed on the way.  Every measurement runs in a database
of its own, created for it, with its own setup; a measurement
running past BENCH_CAP_SECONDS (default 600) is stopped and reported as
capped.

Every measurement runs in a fresh connection, so that the backend's peak
RSS (VmHWM in /proc/<pid>/status) is that of the measurement alone.  Also
recorded: the backend's CPU time (user + system, from /proc/<pid>/stat;
robust when other work shares the machine), its peak private memory
(RssAnon sampled every 20 ms: VmHWM also counts the shared buffers it
touched), and the contact rows written (n_tup_ins + n_tup_upd of
upflow.contact, after pg_stat_force_next_flush()).

What-if knobs (environment, see bench/run): BENCH_MEASURES, BENCH_SESSION_SQL,
BENCH_SETUP_SQL.
"""

import csv
import io
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time

GENERATOR_VERSION = "4"
SEED = 20240601
ORG = 1

HEADER = ("Customer name;Client ID (External Id);Contact email address;First name;"
          "Family name;Phone number;Position;Main contact")

# ---------------------------------------------------------------------------
# File generation
# ---------------------------------------------------------------------------

COMPANY_KINDS = ["Boulangerie", "Société", "Transports", "Hôtel", "Ateliers", "Cabinet",
                 "Garage", "Pharmacie", "Librairie", "Menuiserie", "Café", "Brasserie",
                 "Imprimerie", "Laboratoire", "Fromagerie", "Clinique vétérinaire",
                 "Agence", "Entreprise", "Établissements", "Maison"]
COMPANY_NAMES = ["Dupré", "Lefèvre", "Lévêque", "Rénier", "Benali", "Moreau", "Fontaine",
                 "Girard", "Côté", "Bérubé", "Lemaître", "Müller", "Gómez", "N'Diaye",
                 "Rousseau", "Fournier", "Perrin", "Chevalier", "Gauthier", "Mercier",
                 "Blanchard", "Guérin", "Boucher", "Noël", "Faure", "André", "Brunet",
                 "Hervé", "Aubert", "Lacroix"]
COMPANY_SUFFIXES = ["", "", "", " SARL", " SAS", " & Fils", " et Associés", " du Parc",
                    " de l'Étoile", " d'Équipement", " Frères", " SA"]
FIRST_NAMES = ["Marie", "Jérôme", "Hélène", "Anaïs", "Nathalie", "Paul", "Léa", "Élodie",
               "François", "Amélie", "Zoé", "Chloé", "Gaël", "Loïc", "Éloïse", "Cécile",
               "Benoît", "Inès", "Raphaël", "Mathéo", "Noémie", "Théo", "Jean", "Sophie",
               "Clément", "Maëlle", "Hugo", "Océane", "Stéphane", "Agnès"]
FAMILY_NAMES = ["Dupré", "Lefèvre", "Benali", "Martin", "Moreau", "Lévêque", "Fontaine",
                "Rénier", "Dubois", "Müller", "Côté", "Bérubé", "Lemaître", "N'Diaye",
                "Girard", "Fournier", "Rousseau", "Perrin", "Mercier", "Guérin", "Faure",
                "Lacroix", "Bonnet", "François", "Garnier", "Chevalier", "Roux", "Blanc",
                "Da Silva", "Nguyễn"]
POSITIONS = ["Gérante", "Comptable", "DAF", "Directeur financier", "Directrice administrative",
             "Responsable comptabilité fournisseurs", "Assistante de direction",
             "Chargé de recouvrement", "Trésorier", "Contrôleur de gestion", "Président",
             "Responsable achats", "Secrétaire générale", "Office manager"]
# Quoted in the file: they hold the separator.
POSITIONS_WITH_SEPARATOR = ["Directrice administrative; finance", "Comptabilité; relances",
                            "DAF; RH", "Achats; logistique"]

ASCII = str.maketrans("àâäáãçéèêëíìîïñóòôöõúùûüýÿœæÀÂÄÉÈÊËÎÏÔÖÙÛÜÇŒÆễ",
                      "aaaaaceeeeiiiinooooouuuuyyoaAAAEEEEIIOOUUUCOAe")


def slug(s):
    s = s.translate(ASCII).lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


def cell(value):
    """A value as a CSV cell: quoted when it holds ; " or a line break."""
    if any(ch in value for ch in ';"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def phone(rng):
    n = [rng.randrange(10, 100) for _ in range(4)]
    d = rng.choice("1234569")
    return rng.choice([
        f"+33 {d} {n[0]} {n[1]} {n[2]} {n[3]}",
        f"0{d} {n[0]} {n[1]} {n[2]} {n[3]}",
        f"0{d}.{n[0]}.{n[1]}.{n[2]}.{n[3]}",
        f"+33{d}{n[0]}{n[1]}{n[2]}{n[3]}",
        f"0{d}-{n[0]}-{n[1]}-{n[2]}-{n[3]}",
        "",
    ])


def customer(rng, index):
    family = rng.choice(COMPANY_NAMES)
    name = f"{rng.choice(COMPANY_KINDS)} {family}{rng.choice(COMPANY_SUFFIXES)}"
    r = rng.random()
    if r < 0.05:
        name = f"{name}; {rng.choice(['Paris 11e', 'Lyon 3e', 'Agence de Lille', 'Siège'])}"
    elif r < 0.07:
        name = f'{rng.choice(COMPANY_KINDS)} "Le {family}"'
    domain = f"{slug(family)}-{index}.{rng.choice(['fr', 'fr', 'com', 'eu', 'be'])}"
    return name, f"CUST-{index:07d}", domain


def contact_cells(rng, cust_name, ext_id, domain, i, main):
    first = rng.choice(FIRST_NAMES)
    family = rng.choice(FAMILY_NAMES)
    email = f"{slug(first)}.{slug(family)}{i}@{domain}"
    if rng.random() < 0.1:
        email = email.capitalize()
    pos = (rng.choice(POSITIONS_WITH_SEPARATOR) if rng.random() < 0.05
           else rng.choice(POSITIONS))
    if main:
        flag = rng.choice(["1", "1", "1", "oui", "x"])
    else:
        flag = rng.choice(["0", "0", "", "non"])
    return [cust_name, ext_id, email, first, family, phone(rng), pos, flag]


def corrupt(rng, cells):
    """Make one line erroneous (the 10% variant); returns the raw line."""
    kind = rng.randrange(9)
    c = list(cells)
    if kind == 0:                       # bad email: no domain dot
        c[2] = c[2].split("@")[0] + "@" + c[2].split("@")[1].split(".")[0]
    elif kind == 1:                     # bad email: space, double @
        c[2] = c[2].replace(".", " ", 1).replace("@", "@@")
    elif kind == 2:                     # bad phone
        c[5] = rng.choice(["01 23 AB 45 67", "tél. inconnu", "06 12 34 56 78 90 12 34 56 78"])
    elif kind == 3:                     # invalid main flag
        c[7] = rng.choice(["peut-être", "2", "maybe"])
    elif kind == 4:                     # missing required field
        c[rng.choice([1, 2])] = ""
    elif kind == 5:                     # too many fields
        return ";".join(cell(v) for v in c) + ";en trop;" + rng.choice(["x", "y"])
    elif kind == 6:                     # stray quote inside an unquoted value
        c[0] = c[0].replace(";", ",")
        return ";".join([c[0] + ' "SA'] + [cell(v) for v in c[1:]])
    elif kind == 7:                     # text after a closing quote
        return ";".join([cell(v) for v in c[:6]] + ['"' + c[6].replace('"', '') + '" bis', c[7]])
    else:                               # quote never closed on its line
        return ";".join([cell(v) for v in c[:3]] + ['"' + c[3]] + [cell(v) for v in c[4:]])
    return ";".join(cell(v) for v in c)


def generate_file(path, lines, variant):
    """lines data lines (plus header), 5 contacts per customer, one main each.

    variant "errors": 10% of the lines erroneous; "changed": the position of
    10% of the contacts changed and the main contact of 10% of the customers
    moved to the next contact (the same contacts as the plain file)."""
    rng = random.Random(SEED)            # same contacts in every variant
    err_rng = random.Random(SEED + 1)
    change_rng = random.Random(SEED + 2)
    out = io.StringIO()
    out.write("\ufeff" + HEADER + "\r\n")
    written = 0
    index = 0
    while written < lines:
        index += 1
        cust_name, ext_id, domain = customer(rng, index)
        main = rng.randrange(5)
        moved = variant == "changed" and change_rng.random() < 0.10
        for i in range(5):
            if written == lines:
                break
            cells = contact_cells(rng, cust_name, ext_id, domain, i, i == main)
            if variant == "changed":
                if moved:
                    cells[7] = "1" if i == (main + 1) % 5 else "0"
                if change_rng.random() < 0.10:
                    cells[6] = "Nouveau poste " + str(change_rng.randrange(1000))
            if variant == "errors" and err_rng.random() < 0.10:
                line = corrupt(err_rng, cells)
            else:
                line = ";".join(cell(v) for v in cells)
            out.write(line + "\r\n")
            written += 1
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(out.getvalue())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def file_path(directory, size, variant):
    return os.path.join(directory, f"contacts-{size}{'-' + variant if variant else ''}.csv")


# The file of the small import of another organization (measure ds).
SMALL_SIZE = 1000


def generate(directory, sizes):
    os.makedirs(directory, exist_ok=True)
    os.chmod(directory, 0o755)
    for size, variant in ([(size, v) for size in sizes for v in ("", "errors", "changed")]
                          + [(SMALL_SIZE, "")]):
        path = file_path(directory, size, variant)
        stamp = path + ".version"
        if os.path.exists(path) and os.path.exists(stamp):
            with open(stamp) as f:
                if f.read().strip() == GENERATOR_VERSION:
                    continue
        t = time.time()
        generate_file(path, size, variant)
        with open(stamp, "w") as f:
            f.write(GENERATOR_VERSION + "\n")
        os.chmod(stamp, 0o644)
        print(f"bench: generated {path} ({os.path.getsize(path) / 1e6:.1f} MB, "
              f"{time.time() - t:.1f} s)", file=sys.stderr)


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------

def sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


def psql(script, capture=True, database=None):
    """Run a script in a new connection; returns its stdout."""
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
                       + (["-d", database] if database else []),
                       input=script, text=True, capture_output=True)
    if r.returncode != 0:
        sys.stderr.write(script[:2000] + "\n" + r.stdout[-2000:] + r.stderr)
        raise SystemExit(f"bench: psql failed (exit {r.returncode})")
    return r.stdout


def contact_rows_written_sql():
    return ("SELECT 'ROWS', coalesce(n_tup_ins + n_tup_upd, 0) FROM pg_stat_user_tables "
            "WHERE relid = 'upflow.contact'::regclass;\n")


# Sampling the backend's anonymous (private) memory while the statement
# runs: VmHWM also counts the shared buffers the backend touched.
class AnonSampler(threading.Thread):
    def __init__(self, pidfile):
        super().__init__(daemon=True)
        self.pidfile = pidfile
        self.stop = threading.Event()
        self.peak_kb = 0

    def run(self):
        pid = None
        while not self.stop.is_set() and pid is None:
            try:
                with open(self.pidfile) as f:
                    text = f.read().strip()
                if text:
                    pid = int(text)
            except (OSError, ValueError):
                pass
            if pid is None:
                time.sleep(0.005)
        while not self.stop.is_set() and pid is not None:
            try:
                with open(f"/proc/{pid}/status") as f:
                    m = re.search(r"RssAnon:\s+(\d+) kB", f.read())
                if m:
                    self.peak_kb = max(self.peak_kb, int(m.group(1)))
            except OSError:
                return
            time.sleep(0.02)


class Analyzer(threading.Thread):
    """Another session analyzing the tables every 2 seconds (measure dr)."""
    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.count = 0

    def run(self):
        while not self.stop.wait(2.0):
            subprocess.run(["psql", "-X", "-q", "-c", "ANALYZE upflow.customer; ANALYZE upflow.contact;"],
                           capture_output=True)
            self.count += 1


def measure_once(timed_sql, setup_sql, workdir, analyze_meanwhile=False):
    """Setup in one connection, then the timed statements in a fresh one.

    The timed statements stop at CAP_SECONDS (statement_timeout): a runaway
    measure is reported as capped, never left to hang the bench."""
    if setup_sql:
        # Force the statistics of the setup out before the "before" reading.
        psql(setup_sql + "SELECT pg_stat_force_next_flush();\nSELECT 1;\n")
    pidfile = os.path.join(workdir, "backend.pid")
    if os.path.exists(pidfile):
        os.unlink(pidfile)
    cpu = "SELECT 'CPU', pg_read_file('/proc/self/stat');\n"
    script = (
        f"\\o {pidfile}\nSELECT pg_backend_pid();\n\\o\n"
        + SESSION_SQL
        + f"SET statement_timeout = '{CAP_SECONDS}s';\n"
        + contact_rows_written_sql()
        + cpu + "\\timing on\n" + timed_sql + "\\timing off\n" + cpu
        + "SELECT pg_stat_force_next_flush();\n"
        + contact_rows_written_sql()
        + "SELECT 'HWM', substring(pg_read_file('/proc/self/status') FROM 'VmHWM:\\s*(\\d+) kB');\n"
    )
    sampler = AnonSampler(pidfile)
    sampler.start()
    analyzer = Analyzer() if analyze_meanwhile else None
    if analyzer:
        analyzer.start()
    r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"],
                       input=script, text=True, capture_output=True)
    sampler.stop.set()
    sampler.join()
    if analyzer:
        analyzer.stop.set()
        analyzer.join()
    out = r.stdout
    if r.returncode != 0:
        if "canceling statement due to statement timeout" not in r.stderr:
            sys.stderr.write(r.stdout[-2000:] + r.stderr)
            raise SystemExit(f"bench: psql failed (exit {r.returncode})")
        return {"seconds": float(CAP_SECONDS), "rows": 0, "hwm_kb": 0, "anon_kb": sampler.peak_kb,
                "cpu_s": 0.0, "result": f"CAPPED at {CAP_SECONDS} s"}
    seconds = sum(float(x) for x in re.findall(r"^Time: ([0-9.]+) ms", out, re.M)) / 1000.0
    rows = [int(x) for x in re.findall(r"^ROWS\|(\d+)$", out, re.M)]
    hwm = int(re.search(r"^HWM\|(\d+)$", out, re.M).group(1))
    result = re.findall(r"^RESULT\|(.*)$", out, re.M)
    # utime and stime: fields 14 and 15 of /proc/<pid>/stat, in clock ticks
    ticks = [sum(int(x) for x in stat.rsplit(")", 1)[1].split()[11:13])
             for stat in re.findall(r"^CPU\|(.*)$", out, re.M)]
    return {"seconds": seconds, "rows": rows[1] - rows[0], "hwm_kb": hwm,
            "anon_kb": sampler.peak_kb, "cpu_s": (ticks[1] - ticks[0]) / CLK_TCK,
            "result": (result[-1] if result else "")
            + (f" ({analyzer.count} ANALYZE meanwhile)" if analyzer else "")}


CLK_TCK = os.sysconf("SC_CLK_TCK")

# What-if knobs (not for the reference run): SQL run in the measuring
# session before the timed statements (e.g. "SET jit = off;"), SQL run once
# after CREATE EXTENSION (e.g. a schema change), and the measurements to run.
SESSION_SQL = os.environ.get("BENCH_SESSION_SQL", "").strip()
SESSION_SQL = SESSION_SQL + "\n" if SESSION_SQL else ""
SETUP_SQL = os.environ.get("BENCH_SETUP_SQL", "").strip()
ONLY = os.environ.get("BENCH_MEASURES", "").split()
CAP_SECONDS = int(os.environ.get("BENCH_CAP_SECONDS", "600"))
# The other organizations of the shared-database measures (ds, bt, dt).
OTHER_ORGS = (2, 3, 4, 5)

# Every measurement runs in a database of its own, created for it (no
# statistics, dead rows or cached plans of the one before).
BENCH_DATABASE = "upflow_bench"


def fresh_database():
    psql(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE);\n"
         f"CREATE DATABASE {BENCH_DATABASE};\n", database="postgres")
    os.environ["PGDATABASE"] = BENCH_DATABASE
    orgs = ", ".join(map(str, (ORG,) + OTHER_ORGS))
    psql(f"""CREATE EXTENSION upflow_import;
INSERT INTO upflow.organization (organization_id, name)
SELECT o, 'Bench ' || o FROM unnest(ARRAY[{orgs}]) o;
SELECT upflow.enable_csv_import(o) FROM unnest(ARRAY[{orgs}]) o;
""" + (SETUP_SQL + "\n" if SETUP_SQL else ""))


CHECKPOINT_SQL = "CHECKPOINT;\n"

STAGE_COLUMNS = ("customer_name text, external_id text, email text, first_name text, "
                 "family_name text, phone text, \"position\" text, main_contact text")

COPY_OPTIONS = "(FORMAT csv, HEADER true, DELIMITER ';', ENCODING 'UTF8')"


def sql_copy(path):
    return (f"CREATE TEMP TABLE bench_stage ({STAGE_COLUMNS});\n"
            f"COPY bench_stage FROM {sql_literal(path)} {COPY_OPTIONS};\n")


def sql_pipeline(path):
    """What a user would write with COPY and INSERT ... ON CONFLICT."""
    return f"""BEGIN;
CREATE TEMP TABLE bench_stage ({STAGE_COLUMNS}) ON COMMIT DROP;
COPY bench_stage FROM {sql_literal(path)} {COPY_OPTIONS};
ANALYZE bench_stage;
INSERT INTO upflow.customer (organization_id, external_id, name)
SELECT DISTINCT ON (s.external_id) {ORG}, s.external_id, s.customer_name
  FROM bench_stage s
 ORDER BY s.external_id
    ON CONFLICT (organization_id, external_id) WHERE external_id IS NOT NULL
    DO UPDATE SET name = EXCLUDED.name, updated_at = now();
ANALYZE upflow.customer;
INSERT INTO upflow.contact (organization_id, customer_id, email, first_name, family_name,
                            phone, "position")
SELECT {ORG}, c.customer_id, s.email, s.first_name, s.family_name, s.phone, s."position"
  FROM bench_stage s
  JOIN upflow.customer c ON c.organization_id = {ORG} AND c.external_id = s.external_id
    ON CONFLICT (organization_id, customer_id, lower(email))
    DO UPDATE SET first_name = EXCLUDED.first_name, family_name = EXCLUDED.family_name,
                  phone = EXCLUDED.phone, "position" = EXCLUDED."position", updated_at = now();
ANALYZE upflow.contact;
UPDATE upflow.contact ct
   SET is_main = false, updated_at = now()
  FROM bench_stage s
  JOIN upflow.customer c ON c.organization_id = {ORG} AND c.external_id = s.external_id
 WHERE lower(s.main_contact) IN ('1', 'true', 'yes', 'oui', 'x')
   AND ct.organization_id = {ORG} AND ct.customer_id = c.customer_id AND ct.is_main
   AND lower(ct.email) <> lower(s.email);
UPDATE upflow.contact ct
   SET is_main = true, updated_at = now()
  FROM bench_stage s
  JOIN upflow.customer c ON c.organization_id = {ORG} AND c.external_id = s.external_id
 WHERE lower(s.main_contact) IN ('1', 'true', 'yes', 'oui', 'x')
   AND ct.organization_id = {ORG} AND ct.customer_id = c.customer_id AND NOT ct.is_main
   AND lower(ct.email) = lower(s.email);
COMMIT;
"""


def sql_parse(path):
    return (f"SELECT 'RESULT', count(*) FROM upflow.parse_csv(pg_read_file({sql_literal(path)}));\n")


def sql_import(path, org=None):
    org = ORG if org is None else org
    return (f"SELECT 'RESULT', concat_ws(' ', i.status, 'lines=' || i.line_count,"
            f" 'created=' || i.created_count, 'updated=' || i.updated_count,"
            f" 'unchanged=' || i.unchanged_count, 'failed=' || i.failed_count,"
            f" 'skipped=' || i.skipped_count, 'warnings=' || i.warning_count)"
            f" FROM upflow.upflow_import({org}, pg_read_file({sql_literal(path)})) i;\n")


def setup_written(path, workdir):
    """(w) The customers there, the resolved contact rows in a file."""
    rows = os.path.join(workdir, "resolved-contacts.copy")
    return (CHECKPOINT_SQL + sql_import(path) + f"COPY upflow.contact TO {sql_literal(rows)};\n"
            "TRUNCATE upflow.contact;\nANALYZE upflow.contact;\nCHECKPOINT;\n")


def sql_write_floor(path, workdir):
    rows = os.path.join(workdir, "resolved-contacts.copy")
    return f"COPY upflow.contact FROM {sql_literal(rows)};\n"


def setup_imported(path, workdir):
    """(e, u) The plain file imported, the tables vacuumed and analyzed."""
    return (CHECKPOINT_SQL + sql_import(path.replace("-changed.csv", ".csv"))
            + "VACUUM ANALYZE upflow.contact, upflow.customer, upflow.import, upflow.import_error;\n"
            "CHECKPOINT;\n")


def setup_small_other(path, workdir):
    """(ds) A 1,000-line import of another organization, analyzed."""
    small = os.path.join(os.path.dirname(path), f"contacts-{SMALL_SIZE}.csv")
    return (CHECKPOINT_SQL + sql_import(small, OTHER_ORGS[0])
            + "ANALYZE upflow.contact, upflow.customer;\nCHECKPOINT;\n")


def setup_four_others(path, workdir):
    """(bt, dt) Four other organizations' customers and contacts, the same
    client ids, analyzed; the organization measured holds nothing."""
    first = OTHER_ORGS[0]
    sql = CHECKPOINT_SQL + sql_import(path, first)
    for org in OTHER_ORGS[1:]:
        sql += f"""INSERT INTO upflow.customer (organization_id, external_id, name)
SELECT {org}, c.external_id, c.name FROM upflow.customer c WHERE c.organization_id = {first};
INSERT INTO upflow.contact (organization_id, customer_id, email, first_name, family_name, phone,
                            "position", is_main)
SELECT {org}, n.customer_id, ct.email, ct.first_name, ct.family_name, ct.phone, ct."position", ct.is_main
  FROM upflow.contact ct
  JOIN upflow.customer c ON c.organization_id = ct.organization_id AND c.customer_id = ct.customer_id
  JOIN upflow.customer n ON n.organization_id = {org} AND n.external_id = c.external_id
 WHERE ct.organization_id = {first};
"""
    return sql + "VACUUM ANALYZE upflow.contact, upflow.customer;\nCHECKPOINT;\n"


MEASUREMENTS = [
    # key, label, setup (SQL, or a function of the file and the work
    # directory), timed statements (a function of the same), which file
    ("a", "COPY into a temp table (floor)", "CHECKPOINT;\n", sql_copy, ""),
    ("w", "COPY of the resolved rows into upflow.contact (floor of writing)",
     setup_written, sql_write_floor, ""),
    ("b", "hand-written COPY + INSERT ON CONFLICT, analyzed on the way", CHECKPOINT_SQL, sql_pipeline, ""),
    ("c", "parse_csv count(*)", "CHECKPOINT;\n", sql_parse, ""),
    ("d", "upflow_import, empty tables", CHECKPOINT_SQL, sql_import, ""),
    ("e", "upflow_import again, unchanged", setup_imported, sql_import, ""),
    ("u", "upflow_import, 10% positions changed, 10% main contacts moved",
     setup_imported, sql_import, "changed"),
    ("f", "upflow_import, 10% erroneous lines", CHECKPOINT_SQL, sql_import, "errors"),
    ("dr", "upflow_import, empty tables, ANALYZE every 2 s meanwhile", CHECKPOINT_SQL, sql_import, ""),
    ("ds", "upflow_import after a 1,000-line import of another organization",
     setup_small_other, sql_import, ""),
    ("bt", "hand-written pipeline, 4 other organizations' rows in the tables",
     setup_four_others, sql_pipeline, ""),
    ("dt", "upflow_import, 4 other organizations' rows in the tables",
     setup_four_others, sql_import, ""),
]

RATIOS = [("c/a", "c", "a", 1.0), ("d/b", "d", "b", 0.7), ("dt/bt", "dt", "bt", 0.7),
          ("d/w", "d", "w", 1.5), ("dr/d", "dr", "d", 1.2), ("ds/d", "ds", "d", 1.2),
          ("e/a", "e", "a", 2.5), ("u/d", "u", "d", 0.35), ("f/d", "f", "d", 1.1)]


def fmt_size(n):
    return f"{n // 1000000}M" if n >= 1000000 and n % 1000000 == 0 else (
        f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n))


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except OSError:
        return 0.0


def measure(directory, outdir, sizes, runs):
    os.makedirs(outdir, exist_ok=True)
    settings = psql("SELECT string_agg(name || '=' || setting || coalesce(unit, ''), ' ' ORDER BY name)"
                    " FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
                    "'maintenance_work_mem', 'temp_buffers', 'max_wal_size', 'fsync', "
                    "'synchronous_commit', 'autovacuum', 'jit', 'default_toast_compression');\n").strip()
    version = psql("SHOW server_version;\n").strip()
    measurements = [m for m in MEASUREMENTS if not ONLY or m[0] in ONLY]
    keys = [m[0] for m in measurements]
    print(f"bench: PostgreSQL {version}; {settings}", file=sys.stderr)
    print(f"bench: {os.cpu_count()} CPUs; sizes {' '.join(map(str, sizes))}; "
          f"median of {runs} runs", file=sys.stderr)
    notes = []
    if SESSION_SQL or SETUP_SQL:
        notes.append(f"What-if run: BENCH_SETUP_SQL={SETUP_SQL!r} BENCH_SESSION_SQL={SESSION_SQL.strip()!r}.")
    load_start = loadavg()

    rows = []
    max_load = load_start
    for size in sizes:
        per = {key: [] for key in keys}
        for run in range(runs):
            for key, label, setup, timed, variant in measurements:
                path = file_path(directory, size, variant)
                timed_sql = timed(path, outdir) if timed in (sql_write_floor,) else timed(path)
                setup_sql = setup(path, outdir) if callable(setup) else setup
                fresh_database()
                m = measure_once(timed_sql, setup_sql, outdir, analyze_meanwhile=key == "dr")
                per[key].append(m)
                max_load = max(max_load, loadavg())
                print(f"bench: {fmt_size(size):>4} run {run + 1} {key} {m['seconds']:8.2f} s "
                      f"cpu {m['cpu_s']:7.2f} s rss {m['hwm_kb'] * 1024 / 1e6:7.1f} MB "
                      f"anon {m['anon_kb'] * 1024 / 1e6:7.1f} MB contact rows {m['rows']:>8} "
                      f"{m['result']}", file=sys.stderr, flush=True)
        for key, label, setup, timed, variant in measurements:
            path = file_path(directory, size, variant)
            ms = per[key]
            sec = statistics.median(m["seconds"] for m in ms)
            nbytes = os.path.getsize(path)
            hwm = statistics.median(m["hwm_kb"] for m in ms)
            rows.append({
                "size": size, "measure": key, "label": label,
                "file": os.path.basename(path), "file_bytes": nbytes,
                "seconds": round(sec, 3),
                "cpu_seconds": round(statistics.median(m["cpu_s"] for m in ms), 2),
                "lines_per_s": round(size / sec) if sec else 0,
                "mb_per_s": round(nbytes / 1e6 / sec, 2) if sec else 0,
                "peak_rss_mb": round(hwm * 1024 / 1e6, 1),
                "peak_anon_mb": round(statistics.median(m["anon_kb"] for m in ms) * 1024 / 1e6, 1),
                "rss_per_file_size": round(hwm * 1024 / nbytes, 2),
                "anon_per_file_size": round(statistics.median(m["anon_kb"] for m in ms) * 1024 / nbytes, 2),
                "contact_rows_written": int(statistics.median(m["rows"] for m in ms)),
                "runs_seconds": " ".join(f"{m['seconds']:.3f}" for m in ms),
                "result": ms[-1]["result"],
            })
    if max_load > 1.5:
        notes.append(f"Warning: the machine was busy (load average up to {max_load:.1f} on "
                     f"{os.cpu_count()} CPUs): wall-clock figures are unreliable, compare CPU s.")

    by = {(r["size"], r["measure"]): r for r in rows}
    ratios = [r for r in RATIOS if r[1] in keys and r[2] in keys]
    with open(os.path.join(outdir, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(outdir, "ratios.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["size", "ratio", "value", "cpu_value", "target"])
        for size in sizes:
            for name, x, y, target in ratios:
                w.writerow([size, name,
                            round(by[(size, x)]["seconds"] / by[(size, y)]["seconds"], 3),
                            round(by[(size, x)]["cpu_seconds"] / max(by[(size, y)]["cpu_seconds"], 0.01), 3),
                            target])

    md = []
    md.append(f"PostgreSQL {version}, {os.cpu_count()} CPUs, {settings}; median of {runs} runs. "
              "MB = 10^6 bytes; CPU s = user + system time of the backend; peak RSS = VmHWM of the "
              "backend (counts the shared buffers it touched), peak anon = its private memory "
              "(sampled every 20 ms).\n")
    for n in notes:
        md.append(n + "\n")
    md.append("| lines | measure | s | CPU s | lines/s | MB/s | peak RSS MB | peak anon MB | RSS / file | contact rows written |")
    md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        for key, label, *_ in measurements:
            r = by[(size, key)]
            md.append(f"| {fmt_size(size)} | {key}: {label} | {r['seconds']:.2f} | {r['cpu_seconds']:.2f} "
                      f"| {r['lines_per_s']:,} | {r['mb_per_s']:.1f} | {r['peak_rss_mb']:.0f} "
                      f"| {r['peak_anon_mb']:.0f} | {r['rss_per_file_size']:.2f} "
                      f"| {r['contact_rows_written']:,} |")
    if ratios:
        md.append("")
        head = "| lines | file MB | " + " | ".join(f"{n} (≤ {t})" for n, _, _, t in ratios)
        sep = "|---:|---:|" + "---:|" * len(ratios)
        if "e" in keys:
            head += " | e: contact rows written (0) |"
            sep += "---:|"
        mem_keys = [k for k in ("d", "e", "u", "f", "dr", "ds", "dt") if k in keys]
        if mem_keys:
            head += " " + "/".join(mem_keys) + ": peak anon / file (≤ 2.5) |"
            sep += "---:|"
        md.append(head if head.endswith("|") else head + " |")
        md.append(sep)
        for size in sizes:
            cells = []
            for name, x, y, target in ratios:
                v = by[(size, x)]["seconds"] / by[(size, y)]["seconds"]
                cells.append(f"{v:.2f}{'' if v <= target else ' ✗'}")
            line = f"| {fmt_size(size)} | {by[(size, keys[0])]['file_bytes'] / 1e6:.1f} | " + " | ".join(cells)
            if "e" in keys:
                e_rows = by[(size, 'e')]["contact_rows_written"]
                line += f" | {e_rows:,}{'' if e_rows == 0 else ' ✗'}"
            if mem_keys:
                mem = max(by[(size, k)]["anon_per_file_size"] for k in mem_keys)
                line += f" | {mem:.2f}{'' if mem <= 2.5 else ' ✗'}"
            md.append(line + " |")
    if len(sizes) > 1:
        lo, hi = min(sizes), max(sizes)
        md.append("")
        md.append(f"Linearity: time per line at {fmt_size(hi)} / time per line at {fmt_size(lo)} "
                  "(≤ 1.2 for the import):\n")
        md.append("| measure | µs/line at " + fmt_size(lo) + " | µs/line at " + fmt_size(hi) + " | ratio |")
        md.append("|---|---:|---:|---:|")
        for key, label, *_ in measurements:
            a = by[(lo, key)]["seconds"] / lo * 1e6
            b = by[(hi, key)]["seconds"] / hi * 1e6
            flag = " ✗" if key in ("d", "e", "u", "f") and b / a > 1.2 else ""
            md.append(f"| {key}: {label} | {a:.1f} | {b:.1f} | {b / a:.2f}{flag} |")
    text = "\n".join(md) + "\n"
    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write(text)
    print(text)


def main(argv):
    if len(argv) >= 3 and argv[1] == "generate":
        generate(argv[2], [int(s) for s in argv[3:]])
    elif len(argv) >= 4 and argv[1] == "measure":
        measure(argv[2], argv[3], [int(s) for s in argv[4:]],
                int(os.environ.get("BENCH_RUNS", "3")))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
