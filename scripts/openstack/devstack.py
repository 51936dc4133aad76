"""Run real OpenStack services on 127.0.0.1 for cloudctl's tests (called by scripts/openstack-dev).

Runs inside the OpenStack venv. Layout under $CLOUDCTL_OS_RUN:
  etc/<svc>/        config files            data/           SQLite DBs, keys, images, state
  data.snapshot/    data/ right after init  logs/           one log per process
  pids/             one pid file per process shims/          gunicorn shim modules
  rabbit/           RabbitMQ mnesia, logs, HOME               clouds.yaml
  mariadb/          MariaDB's data dir (Neutron's database)

Databases: SQLite for every service but Neutron, whose database is in MariaDB (as in production
deployments): Neutron's requests hold a write transaction through most of their work, so on SQLite
its API workers take turns on one database lock and a second worker adds nothing; on MariaDB they
run in parallel (docs/cloud.md#benchmarks). Keystone caches in memcached (as devstack and
production deployments do): without it each request re-validates its token from the database.

Init happens on the first start (no snapshot yet): DBs, Keystone bootstrap, service users and
catalog, flavor, a 1 KB raw image, the shared flat external network "public". The data dir is
snapshotted after init (services keep running) and restored before every later start, so each
start begins from the same clean cloud (and nova-compute's node identity stays consistent).
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

VENV = Path(os.environ.get("CLOUDCTL_OS_VENV", "/opt/cloudctl-openstack/venv"))
RUN = Path(os.environ.get("CLOUDCTL_OS_RUN", "/var/tmp/cloudctl-openstack"))
BIN = VENV / "bin"
ETC, DATA, SNAP, LOGS, PIDS, SHIMS, RABBIT = (RUN / d for d in
                                              ("etc", "data", "data.snapshot", "logs", "pids", "shims", "rabbit"))
HOST = "127.0.0.1"
PASSWORD = "cloudctl-dev-secret"
CLOUD = "cloudctl-dev"
TRANSPORT = f"rabbit://guest:guest@{HOST}:5672/"
MARIADB = RUN / "mariadb"
NEUTRON_DUMP = "neutron.mariadb.sql"  # Neutron's database in the snapshot
# not the default ports (3306, 11211): a distribution's own servers may be listening there
MARIADB_PORT = 13306
MEMCACHED_PORT = 11311
STOP_GRACE_S = 20.0

# name -> (port, gunicorn workers, readiness path)
APIS = {
    "keystone": (5000, 2, "/v3"),
    "placement": (8778, 1, "/"),
    "nova-api": (8774, 1, "/"),
    "glance": (9292, 1, "/versions"),
    "neutron": (9696, 2, "/"),
    "cinder-api": (8776, 1, "/"),
}
# services whose SQLite transactions begin IMMEDIATE (see cloudctl_sqlite_begin.py): the ones with
# several processes writing one database. Keystone, Glance and Placement keep oslo.db's
# deferred BEGIN, so their readers never queue behind a writer.
IMMEDIATE_BEGIN = ("nova", "cinder")
WORKERS = ["nova-conductor", "nova-scheduler", "nova-compute", "cinder-scheduler", "cinder-volume"]
NOVA_REGISTERED_LIMITS = {
    "servers": 10, "class:VCPU": 20, "class:MEMORY_MB": 51200, "class:DISK_GB": 1000,
    "server_metadata_items": 128, "server_injected_files": 5, "server_injected_file_content_bytes": 10240,
    "server_injected_file_path_bytes": 255, "server_key_pairs": 100, "server_groups": 10,
    "server_group_members": 10,
}
SERVICE_USERS = ["nova", "placement", "glance", "neutron", "cinder"]
CATALOG = [  # (service name, type, url)
    ("nova", "compute", f"http://{HOST}:8774/v2.1"),
    ("placement", "placement", f"http://{HOST}:8778"),
    ("glance", "image", f"http://{HOST}:9292"),
    ("neutron", "network", f"http://{HOST}:9696"),
    ("cinderv3", "volumev3", f"http://{HOST}:8776/v3/%(project_id)s"),
    ("cinder", "block-storage", f"http://{HOST}:8776/v3/%(project_id)s"),
]


def log(msg: str) -> None:
    print(f"openstack-dev: {msg}", file=sys.stderr, flush=True)


def db(name: str) -> str:
    if name == "neutron":
        return f"mysql+mysqldb://neutron:{PASSWORD}@{HOST}:{MARIADB_PORT}/neutron?charset=utf8mb4"
    return f"sqlite:///{DATA / (name + '.db')}?timeout=60"


def authtoken(user: str) -> str:
    return f"""
[keystone_authtoken]
www_authenticate_uri = http://{HOST}:5000/v3
auth_url = http://{HOST}:5000/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = {user}
password = {PASSWORD}
service_token_roles_required = true
"""


def service_auth(section: str, user: str) -> str:
    return f"""
[{section}]
auth_type = password
auth_url = http://{HOST}:5000/v3
project_domain_name = Default
user_domain_name = Default
project_name = service
username = {user}
password = {PASSWORD}
region_name = RegionOne
"""


def common(svc: str) -> str:
    return f"""[DEFAULT]
log_file = {LOGS / (svc + '.log')}
debug = false
transport_url = {TRANSPORT}
[oslo_concurrency]
lock_path = {DATA / 'locks' / svc}
[oslo_messaging_notifications]
driver = noop
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
"""


def configs() -> dict[str, str]:
    c: dict[str, str] = {}
    c["keystone/keystone.conf"] = common("keystone") + f"""
[database]
connection = {db('keystone')}
[token]
provider = fernet
expiration = 86400
[fernet_tokens]
key_repository = {DATA / 'keystone-fernet'}
[fernet_receipts]
key_repository = {DATA / 'keystone-fernet'}
[credential]
key_repository = {DATA / 'keystone-credential'}
[identity]
password_hash_rounds = 4
[cache]
enabled = true
backend = dogpile.cache.pymemcache
memcache_servers = {HOST}:{MEMCACHED_PORT}
"""
    c["placement/placement.conf"] = common("placement") + f"""
[placement_database]
connection = {db('placement')}
[api]
auth_strategy = keystone
""" + authtoken("placement")
    nova = common("nova") + f"""
[DEFAULT]
state_path = {DATA / 'nova'}
instances_path = {DATA / 'nova' / 'instances'}
compute_driver = fake.FakeDriverWithoutFakeNodes
host = cloudctl-dev
my_ip = {HOST}
[api]
auth_strategy = keystone
[api_database]
connection = {db('nova_api')}
[database]
connection = {db('nova_cell1')}
[scheduler]
discover_hosts_in_cells_interval = -1
[quota]
driver = nova.quota.UnifiedLimitsDriver
[oslo_limit]
auth_type = password
auth_url = http://{HOST}:5000/v3
user_domain_name = Default
username = nova
password = {PASSWORD}
project_domain_name = Default
project_name = service
endpoint_service_type = compute
endpoint_region_name = RegionOne
endpoint_interface = public
[filter_scheduler]
enabled_filters = ComputeFilter,ImagePropertiesFilter
[vnc]
enabled = false
[wsgi]
api_paste_config = {ETC / 'nova' / 'api-paste.ini'}
[glance]
region_name = RegionOne
[cinder]
os_region_name = RegionOne
[neutron]
service_metadata_proxy = false
default_floating_pool = public
""" + authtoken("nova") + service_auth("placement", "placement").replace("[placement]", "[placement]") \
        + service_auth("neutron", "neutron") + service_auth("service_user", "nova").replace(
            "region_name = RegionOne", "send_service_user_token = false")
    c["nova/nova.conf"] = nova
    c["glance/glance-api.conf"] = common("glance") + f"""
[DEFAULT]
enabled_backends = file:file
[database]
connection = {db('glance')}
[glance_store]
default_backend = file
[file]
filesystem_store_datadir = {DATA / 'glance' / 'images'}
[os_glance_staging_store]
filesystem_store_datadir = {DATA / 'glance' / 'staging'}
[os_glance_tasks_store]
filesystem_store_datadir = {DATA / 'glance' / 'tasks'}
[paste_deploy]
flavor = keystone
""" + authtoken("glance")
    c["neutron/neutron.conf"] = common("neutron") + f"""
[DEFAULT]
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
state_path = {DATA / 'neutron'}
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
rpc_workers = 0
rpc_state_report_workers = 0
api_paste_config = {ETC / 'neutron' / 'api-paste.ini'}
[database]
connection = {db('neutron')}
""" + authtoken("neutron")
    c["neutron/ml2_conf.ini"] = """[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = cloudctl_bind_all
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public
[ml2_type_vxlan]
vni_ranges = 1:65000
"""
    c["cinder/cinder.conf"] = common("cinder") + f"""
[DEFAULT]
state_path = {DATA / 'cinder'}
auth_strategy = keystone
enabled_backends = fake
host = cloudctl-dev
my_ip = {HOST}
api_paste_config = {ETC / 'cinder' / 'api-paste.ini'}
[database]
connection = {db('cinder')}
[fake]
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
""" + authtoken("cinder")
    return c


SHIM_SPECS = {  # name -> (config env var or None, module with `application`)
    "keystone": ("OS_KEYSTONE_CONFIG_DIR", "keystone.wsgi.api"),
    "placement": ("OS_PLACEMENT_CONFIG_DIR", "placement.wsgi.api"),
    "nova-api": ("OS_NOVA_CONFIG_DIR", "nova.wsgi.osapi_compute"),
    "glance": ("OS_GLANCE_CONFIG_DIR", "glance.wsgi.api"),
    "neutron": ("OS_NEUTRON_CONFIG_DIR", "neutron.wsgi.api"),
    "cinder-api": (None, "cinder.wsgi.api"),
}
CONFIG_DIRS = {"keystone": "keystone", "placement": "placement", "nova-api": "nova", "glance": "glance",
               "neutron": "neutron", "cinder-api": "cinder"}


def write_files() -> None:
    for d in (ETC, DATA, LOGS, PIDS, SHIMS, RABBIT):
        d.mkdir(parents=True, exist_ok=True)
    for rel, text in configs().items():
        path = ETC / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    copy_paste_inis()
    for name, (env, module) in SHIM_SPECS.items():
        confdir = ETC / CONFIG_DIRS[name]
        if env:
            setup = f"os.environ[{env!r}] = {str(confdir)!r}\nsys.argv = sys.argv[:1]\n"
        else:
            setup = f"sys.argv = [sys.argv[0], '--config-file', {str(confdir / 'cinder.conf')!r}]\n"
        if name == "neutron":
            setup += (f"os.environ['OS_NEUTRON_CONFIG_FILES'] = "
                      f"{str(confdir / 'neutron.conf') + ';' + str(confdir / 'ml2_conf.ini')!r}\n")
        (SHIMS / f"shim_{name.replace('-', '_')}.py").write_text(
            f'"""gunicorn shim for {name}: OpenStack apps parse sys.argv, gunicorn\'s would crash them."""\n'
            f"import os\nimport sys\n\n{setup}\nfrom {module} import application  # noqa: E402,F401\n")
    write_clouds_yaml()


def copy_paste_inis() -> None:
    """api-paste.ini files ship inside the venv (data files) or the packages."""
    wanted = {"nova": "api-paste.ini", "neutron": "api-paste.ini", "cinder": "api-paste.ini",
              "glance": "glance-api-paste.ini"}
    for svc, fname in wanted.items():
        dest = ETC / svc / fname
        candidates = [VENV / "etc" / svc / fname]
        candidates += list((VENV / "lib").glob(f"python3*/site-packages/{svc}/**/{fname}"))
        candidates += list((VENV / "lib").glob(f"python3*/site-packages/{svc}/**/api-paste.ini"))
        src = next((p for p in candidates if p.is_file()), None)
        if src is None:
            raise SystemExit(f"openstack-dev: cannot find {fname} for {svc} in {VENV}")
        shutil.copyfile(src, dest)


def write_clouds_yaml() -> None:
    (RUN / "clouds.yaml").write_text(f"""clouds:
  {CLOUD}:
    auth:
      auth_url: http://{HOST}:5000/v3
      username: admin
      password: {PASSWORD}
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    identity_api_version: 3
    interface: public
""")


# ---------------------------------------------------------------- processes

def pid_of(name: str) -> int | None:
    f = PIDS / f"{name}.pid"
    if not f.exists():
        return None
    try:
        pid = int(f.read_text().strip())
        try:  # reap our own exited children (zombies still answer kill 0)
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return None
        except ChildProcessError:
            pass
        os.kill(pid, 0)
        return pid
    except (ValueError, ProcessLookupError, PermissionError):
        return None


def spawn(name: str, argv: list[str], env: dict[str, str] | None = None) -> None:
    out = open(LOGS / f"{name}.out", "ab")  # noqa: SIM115  (owned by the child)
    full_env = {**os.environ, **(env or {})}
    if name.startswith(IMMEDIATE_BEGIN):
        full_env["CLOUDCTL_SQLITE_BEGIN_IMMEDIATE"] = "1"
    full_env["PATH"] = f"{BIN}:{full_env.get('PATH', '/usr/bin:/bin')}"
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=full_env, start_new_session=True, cwd=str(RUN))
    (PIDS / f"{name}.pid").write_text(str(proc.pid))


def run(argv: list[str], *, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{BIN}:{full_env.get('PATH', '/usr/bin:/bin')}"
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=str(RUN))
    if r.returncode != 0:
        raise SystemExit(f"openstack-dev: {' '.join(argv)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout


def rabbit_env() -> dict[str, str]:
    return {
        "HOME": str(RABBIT),
        "RABBITMQ_NODENAME": "rabbit@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": "5672",
        "RABBITMQ_DIST_PORT": "25672",
        "ERL_EPMD_ADDRESS": HOST,
        "RABBITMQ_MNESIA_BASE": str(RABBIT / "mnesia"),
        "RABBITMQ_LOG_BASE": str(RABBIT / "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(RABBIT / "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": str(RABBIT / "rabbitmq"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
    }


def start_rabbit() -> None:
    if pid_of("rabbitmq"):
        return
    (RABBIT / "enabled_plugins").write_text("[].\n")
    (RABBIT / "rabbitmq.conf").write_text("loopback_users.guest = true\nlog.console = false\n")
    subprocess.run(["epmd", "-address", HOST, "-daemon"], check=True, timeout=30, env={**os.environ, **rabbit_env()})
    spawn("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], rabbit_env())
    deadline = time.monotonic() + 120  # await_startup fails at once until the node registers with epmd
    while True:
        r = subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", "rabbit@localhost", "--timeout", "30",
                            "await_startup"], capture_output=True, text=True, timeout=60,
                           env={**os.environ, **rabbit_env()})
        if r.returncode == 0:
            break
        if time.monotonic() > deadline or not pid_of("rabbitmq"):
            raise SystemExit(f"openstack-dev: RabbitMQ did not start: {r.stderr}\nsee {RABBIT / 'log'}")
        time.sleep(1)
    log("rabbitmq ready")


def mariadb_client(tool: str, *args: str) -> list[str]:
    return [f"/usr/bin/{tool}", "--no-defaults", f"--socket={MARIADB / 'mariadb.sock'}", "--user=root", *args]


def mariadb_sql(sql: str, *, stdin_path: Path | None = None) -> None:
    argv = mariadb_client("mariadb", *(["-e", sql] if sql else []))
    with open(stdin_path or os.devnull, "rb") as stdin:
        r = subprocess.run(argv, stdin=stdin, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit(f"openstack-dev: mariadb failed ({r.returncode}): {r.stderr.strip()}")


def start_mariadb() -> None:
    """MariaDB for Neutron: its own data dir, socket and port, so it never meets a system server."""
    if pid_of("mariadb"):
        return
    user = getpass.getuser()  # root connects through the socket as this OS user, no password
    if not (MARIADB / "mysql").is_dir():
        MARIADB.mkdir(parents=True, exist_ok=True)
        run(["/usr/bin/mariadb-install-db", "--no-defaults", f"--datadir={MARIADB}", f"--user={user}",
             "--auth-root-authentication-method=socket", f"--auth-root-socket-user={user}", "--skip-test-db"])
    spawn("mariadb", ["/usr/sbin/mariadbd", "--no-defaults", f"--datadir={MARIADB}", f"--user={user}",
                      f"--socket={MARIADB / 'mariadb.sock'}", f"--pid-file={MARIADB / 'mariadb.pid'}",
                      f"--bind-address={HOST}", f"--port={MARIADB_PORT}", "--skip-name-resolve",
                      "--max-connections=500", "--innodb-buffer-pool-size=128M",
                      "--innodb-flush-log-at-trx-commit=2", f"--log-error={LOGS / 'mariadb.log'}"])
    deadline = time.monotonic() + 60
    while subprocess.run(mariadb_client("mariadb-admin", "ping"), capture_output=True, timeout=30).returncode:
        if time.monotonic() > deadline or not pid_of("mariadb"):
            raise SystemExit(f"openstack-dev: MariaDB did not start; see {LOGS / 'mariadb.log'}")
        time.sleep(0.5)
    mariadb_sql(f"CREATE USER IF NOT EXISTS 'neutron'@'{HOST}' IDENTIFIED BY '{PASSWORD}'; "
                f"GRANT ALL PRIVILEGES ON neutron.* TO 'neutron'@'{HOST}'")
    log("mariadb ready")


def start_memcached() -> None:
    if not pid_of("memcached"):
        spawn("memcached", ["/usr/bin/memcached", "-u", getpass.getuser(), "-l", HOST, "-p", str(MEMCACHED_PORT),
                            "-U", "0", "-m", "64"])


def start_api(name: str) -> None:
    if pid_of(name):
        return
    port, workers, _ = APIS[name]
    module = f"shim_{name.replace('-', '_')}"
    spawn(name, [str(BIN / "gunicorn"), "--bind", f"{HOST}:{port}", "--workers", str(workers),
                 "--timeout", "300", "--graceful-timeout", "10", "--chdir", str(SHIMS),
                 "--control-socket", str(PIDS / f"{name}.ctl"), "--name", name,
                 f"{module}:application"])


def start_worker(name: str) -> None:
    if pid_of(name):
        return
    svc = name.split("-")[0]
    conf = ETC / svc / f"{svc}.conf"
    spawn(name, [str(BIN / name), "--config-file", str(conf), "--log-file", str(LOGS / f"{name}.log")])


def http_ready(port: int, path: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}{path}", timeout=2) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


def wait_http(names: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    pending = list(names)
    while pending and time.monotonic() < deadline:
        for name in list(pending):
            port, _, path = APIS[name]
            if http_ready(port, path):
                pending.remove(name)
            elif not pid_of(name):
                raise SystemExit(f"openstack-dev: {name} exited; see {LOGS / (name + '.out')} and .log")
        if pending:
            time.sleep(0.5)
    if pending:
        raise SystemExit(f"openstack-dev: not answering after {timeout:.0f}s: {', '.join(pending)}; see {LOGS}")
    log(f"APIs ready: {', '.join(names)}")


def stop_all() -> None:
    names = [*WORKERS, *APIS]
    for name in names:
        signal_group(name, signal.SIGTERM)
    wait_gone(names)
    for name in ("mariadb", "memcached"):  # after the services that use them; SIGTERM shuts down cleanly
        signal_group(name, signal.SIGTERM)
    wait_gone(["mariadb", "memcached"])
    if pid_of("rabbitmq"):
        subprocess.run(["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", "rabbit@localhost", "--timeout", "20",
                        "stop"], capture_output=True, timeout=40, env={**os.environ, **rabbit_env()})
        signal_group("rabbitmq", signal.SIGTERM)
        wait_gone(["rabbitmq"])
    subprocess.run(["epmd", "-kill"], capture_output=True, timeout=10, env={**os.environ, **rabbit_env()})
    for f in PIDS.glob("*.pid") if PIDS.exists() else []:
        f.unlink()


def signal_group(name: str, sig: int) -> None:
    pid = pid_of(name)
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)


def wait_gone(names: list[str]) -> None:
    deadline = time.monotonic() + STOP_GRACE_S
    while time.monotonic() < deadline and any(pid_of(n) for n in names):
        time.sleep(0.2)
    for n in names:
        if pid_of(n):
            log(f"{n} ignored SIGTERM for {STOP_GRACE_S:.0f}s: SIGKILL")
            signal_group(n, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(pid_of(n) for n in names):
        time.sleep(0.2)


# ---------------------------------------------------------------- init (first start only)

def conf(svc: str, *extra: str) -> list[str]:
    out = ["--config-file", str(ETC / svc / f"{svc}.conf")]
    for e in extra:
        out += ["--config-file", str(ETC / svc / e)]
    return out


def sync_databases() -> None:
    (DATA / "keystone-fernet").mkdir(exist_ok=True)
    (DATA / "keystone-credential").mkdir(exist_ok=True)
    for d in ("nova/instances", "glance/images", "glance/staging", "glance/tasks", "neutron", "cinder"):
        (DATA / d).mkdir(parents=True, exist_ok=True)
    ks = conf("keystone")
    run([str(BIN / "keystone-manage"), *ks, "db_sync"])
    run([str(BIN / "keystone-manage"), *ks, "fernet_setup", "--keystone-user", "root", "--keystone-group", "root"])
    run([str(BIN / "keystone-manage"), *ks, "credential_setup", "--keystone-user", "root",
         "--keystone-group", "root"])
    run([str(BIN / "keystone-manage"), *ks, "bootstrap", "--bootstrap-password", PASSWORD,
         "--bootstrap-region-id", "RegionOne",
         *(a for kind in ("admin", "public", "internal")
           for a in (f"--bootstrap-{kind}-url", f"http://{HOST}:5000/v3/"))])
    log("keystone db ready")
    run([str(BIN / "placement-manage"), *conf("placement"), "db", "sync"])
    nova = conf("nova")
    run([str(BIN / "nova-manage"), *nova, "api_db", "sync"])
    run([str(BIN / "nova-manage"), *nova, "cell_v2", "map_cell0", "--database_connection", db("nova_cell0")])
    run([str(BIN / "nova-manage"), *nova, "cell_v2", "create_cell", "--name", "cell1"])
    run([str(BIN / "nova-manage"), *nova, "db", "sync"])
    log("placement, nova dbs ready")
    run([str(BIN / "glance-manage"), "--config-file", str(ETC / "glance" / "glance-api.conf"), "db_sync"])
    run([str(BIN / "cinder-manage"), *conf("cinder"), "db", "sync"])
    log("glance, cinder dbs ready")
    # the head schema from Neutron's models, then stamped: as fast as the migrations are slow
    mariadb_sql("DROP DATABASE IF EXISTS neutron; CREATE DATABASE neutron CHARACTER SET utf8mb4")
    run([str(BIN / "python"), "-c",
         "import sys, sqlalchemy\n"
         "from neutron.db.migration.models import head\n"
         "head.get_metadata().create_all(sqlalchemy.create_engine(sys.argv[1]))", db("neutron")])
    run([str(BIN / "neutron-db-manage"), *conf("neutron", "ml2_conf.ini"), "stamp", "heads"])
    log("neutron db ready")


def admin_conn():  # type: ignore[no-untyped-def]
    import openstack

    return openstack.connection.Connection(
        auth={"auth_url": f"http://{HOST}:5000/v3", "username": "admin", "password": PASSWORD,
              "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"},
        region_name="RegionOne", identity_api_version="3")


def register_services() -> None:
    conn = admin_conn()
    service_project = conn.identity.create_project(name="service", domain_id="default")
    admin_role = conn.identity.find_role("admin")
    for user in SERVICE_USERS:
        u = conn.identity.create_user(name=user, password=PASSWORD, domain_id="default",
                                      default_project_id=service_project.id)
        conn.identity.assign_project_role_to_user(service_project, u, admin_role)
    for role in ("service", "member", "reader"):
        if not conn.identity.find_role(role):
            conn.identity.create_role(name=role)
    service_role = conn.identity.find_role("service")
    for user in SERVICE_USERS:
        conn.identity.assign_project_role_to_user(service_project, conn.identity.find_user(user), service_role)
    for name, kind, url in CATALOG:
        svc = conn.identity.create_service(name=name, type=kind)
        for interface in ("public", "internal", "admin"):
            conn.identity.create_endpoint(service_id=svc.id, interface=interface, url=url, region_id="RegionOne")
        if kind == "compute":  # nova uses Keystone unified limits: every resource needs a registered limit
            for resource, default in NOVA_REGISTERED_LIMITS.items():
                conn.identity.create_registered_limit(service_id=svc.id, resource_name=resource,
                                                      default_limit=default, region_id="RegionOne")
    log("keystone: service users and catalog registered")


def wait_compute(timeout: float = 240) -> None:
    import openstack.exceptions

    conn = admin_conn()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_of("nova-compute"):
            raise SystemExit(f"openstack-dev: nova-compute exited; see {LOGS / 'nova-compute.log'}")
        try:
            up = [s for s in conn.compute.services() if s.binary == "nova-compute" and s.state == "up"]
            rps = list(conn.placement.resource_providers())
            if up and rps:
                return
        except openstack.exceptions.SDKException:
            pass
        time.sleep(1)
    raise SystemExit(f"openstack-dev: nova-compute not up after {timeout:.0f}s; see {LOGS}")


def seed_resources() -> None:
    import io

    conn = admin_conn()
    conn.compute.create_flavor(name="m1.tiny", ram=512, vcpus=1, disk=1, id="1")
    conn.compute.create_flavor(name="m1.small", ram=2048, vcpus=1, disk=20, id="2")
    conn.image.create_image(name="cloudctl-test-raw", disk_format="raw", container_format="bare",
                            visibility="public", data=io.BytesIO(b"\0" * 1024), validate_checksum=False)
    net = conn.network.create_network(name="public", is_router_external=True, is_shared=True,
                                      provider_network_type="flat", provider_physical_network="public")
    conn.network.create_subnet(network_id=net.id, name="public-subnet", ip_version=4, cidr="203.0.113.0/24",
                               gateway_ip="203.0.113.1", enable_dhcp=False,
                               allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.250"}])
    log("seeded flavors, image, shared external network 'public'")


def start_workers_and_discover() -> None:
    for name in WORKERS:
        start_worker(name)
    wait_compute()
    run([str(BIN / "nova-manage"), *conf("nova"), "cell_v2", "discover_hosts"])
    log("nova-compute up, host discovered")


def ensure_node_identity() -> None:
    """nova's FakeDriver never writes state_path/compute_id, yet a restarting nova-compute insists
    on it ("No local node identity found"): write the recorded compute node's uuid there."""
    import sqlite3

    target = DATA / "nova" / "compute_id"
    if target.exists() or not (DATA / "nova_cell1.db").exists():
        return
    with sqlite3.connect(DATA / "nova_cell1.db") as c:
        row = c.execute("SELECT uuid FROM compute_nodes WHERE deleted = 0 ORDER BY id LIMIT 1").fetchone()
    if row:
        target.write_text(row[0])


def use_wal() -> None:
    """Put the databases of the IMMEDIATE_BEGIN services in WAL mode (kept in the file): their
    readers and their writer do not block each other, so transactions that begin IMMEDIATE queue
    only behind other writers. The others keep the rollback journal."""
    import sqlite3

    for path in DATA.rglob("*.db"):
        mode = "WAL" if path.stem.startswith(IMMEDIATE_BEGIN) else "DELETE"
        with sqlite3.connect(path, timeout=60) as c:
            c.execute(f"PRAGMA journal_mode={mode}")


def snapshot_live() -> None:
    """Copy the data dir while the (idle) services run: SQLite files through the backup API, so
    each database copy is consistent; everything else as files. Saves a stop and a start."""
    import sqlite3

    tmp = RUN / "data.snapshot.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    shutil.copytree(DATA, tmp, symlinks=True, ignore=shutil.ignore_patterns("*.db", "*.db-journal", "*.db-wal",
                                                                           "*.db-shm"))
    for src in DATA.rglob("*.db"):
        dest = tmp / src.relative_to(DATA)
        with sqlite3.connect(src, timeout=60) as s_conn, sqlite3.connect(dest) as d_conn:
            s_conn.backup(d_conn)
    with open(tmp / NEUTRON_DUMP, "wb") as out:
        subprocess.run(mariadb_client("mariadb-dump", "--single-transaction", "--databases", "neutron"),
                       stdout=out, check=True, timeout=120)
    tmp.rename(SNAP)


def restore_neutron_db() -> None:
    mariadb_sql("DROP DATABASE IF EXISTS neutron")
    mariadb_sql("", stdin_path=DATA / NEUTRON_DUMP)


def init() -> None:
    t0 = time.monotonic()
    if DATA.exists():
        shutil.rmtree(DATA)
    write_files()
    start_rabbit()
    start_memcached()
    start_mariadb()
    sync_databases()
    use_wal()
    start_api("keystone")
    wait_http(["keystone"])
    register_services()
    for name in APIS:
        start_api(name)
    wait_http(list(APIS))
    start_workers_and_discover()
    seed_resources()
    ensure_node_identity()
    snapshot_live()
    log(f"init done in {time.monotonic() - t0:.0f}s; snapshot at {SNAP}")


# ---------------------------------------------------------------- commands

def all_alive() -> bool:
    return all(pid_of(n) for n in [*APIS, *WORKERS, "rabbitmq", "mariadb", "memcached"])


def cmd_start() -> None:
    if all_alive():  # running: only wait (bounded) for slow APIs; never restart a live stack
        wait_http(list(APIS))
        log(f"already running; clouds.yaml at {RUN / 'clouds.yaml'}")
        print(RUN / "clouds.yaml")
        return
    if not (BIN / "nova-manage").exists():
        raise SystemExit(f"openstack-dev: not installed in {VENV}: run scripts/openstack-dev install")
    stop_all()
    t0 = time.monotonic()
    if SNAP.exists() and not (SNAP / NEUTRON_DUMP).exists():
        log("snapshot from before Neutron moved to MariaDB: initialising again")
        shutil.rmtree(SNAP)
    if not SNAP.exists():
        init()  # leaves everything running
        log(f"started in {time.monotonic() - t0:.0f}s; clouds.yaml at {RUN / 'clouds.yaml'} (cloud {CLOUD!r})")
        print(RUN / "clouds.yaml")
        return
    if DATA.exists():
        shutil.rmtree(DATA)
    shutil.copytree(SNAP, DATA, symlinks=True)
    use_wal()
    ensure_node_identity()
    write_files()
    start_rabbit()
    start_memcached()
    start_mariadb()
    restore_neutron_db()
    for name in APIS:
        start_api(name)
    wait_http(list(APIS))
    start_workers_and_discover()
    log(f"started in {time.monotonic() - t0:.0f}s; clouds.yaml at {RUN / 'clouds.yaml'} (cloud {CLOUD!r})")
    print(RUN / "clouds.yaml")


def cmd_status() -> int:
    code = 0
    for name in ["rabbitmq", "mariadb", "memcached", *APIS, *WORKERS]:
        pid = pid_of(name)
        state = "running" if pid else "stopped"
        if name in APIS and pid:
            port, _, path = APIS[name]
            state += ", answering" if http_ready(port, path) else ", NOT answering"
        if not pid or "NOT" in state:
            code = 1
        print(f"{name:18} {state}" + (f" (pid {pid})" if pid else ""))
    return code


def main(argv: list[str]) -> int:
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "start":
        cmd_start()
    elif cmd == "stop":
        stop_all()
        log("stopped")
    elif cmd == "reset":
        stop_all()
        if RUN.exists():
            shutil.rmtree(RUN)
        log(f"removed {RUN}")
    elif cmd == "status":
        return cmd_status()
    else:
        print("usage: devstack.py start|stop|reset|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
