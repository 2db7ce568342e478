# Shared by scripts/test.sh and scripts/demo.sh: check Odoo, install what is
# missing, start PostgreSQL. Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-python3}
export PYTHONUNBUFFERED=1

die() { echo "ERROR: $*" >&2; exit 1; }

require_odoo() {
    if ! "$PYTHON" -c "import odoo.release" 2>/dev/null; then
        die "Odoo 19.0 cannot be imported with $PYTHON ('import odoo.release' failed).
This project assumes Odoo 19.0 Community installed from a source checkout with
'pip install -e <checkout>' (see README.rst); it does not install Odoo itself."
    fi
    local version
    version=$("$PYTHON" -c "import odoo.release as r; print(r.serie)")
    [ "$version" = "19.0" ] || die "Odoo 19.0 is required, found $version."
    # Core addons folder of the imported odoo package (source checkout layout).
    ODOO_ADDONS=$("$PYTHON" - <<'PY'
import os
import odoo
for path in odoo.__path__:
    candidate = os.path.join(os.path.dirname(os.path.abspath(path)), "addons")
    if os.path.isfile(os.path.join(candidate, "calendar", "__manifest__.py")):
        print(candidate)
        break
PY
)
    [ -n "$ODOO_ADDONS" ] || die "Cannot find Odoo's core addons (calendar) next to the odoo package."
    ADDONS_PATH="$ODOO_ADDONS,$ROOT"
    ODOO_BIN=("$PYTHON" -m odoo)
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

pip_install() {
    "$PYTHON" -m pip install -q --disable-pip-version-check -r "$ROOT/requirements-test.txt" \
        || die "pip could not install requirements-test.txt"
}

start_postgresql() {
    apt_install postgresql
    if ! pg_isready -q 2>/dev/null; then
        local version
        version=$(ls /usr/lib/postgresql | sort -V | tail -1)
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        if ! pg_lsclusters -h | grep -q "^$version main"; then
            $sudo pg_createcluster "$version" main >/dev/null
        fi
        $sudo pg_ctlcluster "$version" main start || die "PostgreSQL $version did not start."
        for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
        pg_isready -q || die "PostgreSQL is not accepting connections."
    fi
    local me
    me=$(id -un)
    if ! psql -d postgres -tAc "select 1" >/dev/null 2>&1; then
        su postgres -c "psql -q -c \"CREATE ROLE \\\"$me\\\" SUPERUSER LOGIN\"" \
            || die "Cannot create the PostgreSQL role $me."
    fi
}
