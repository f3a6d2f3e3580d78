#!/usr/bin/env bash
# Installs uprez as a systemd service: on a Raspberry Pi with Raspberry Pi OS (bookworm),
# or any Debian 12 machine. Run it as root from a checkout of the repository:
#
#   sudo systemd/install.sh             # install, or bring an installation up to date
#   systemd/install.sh --dry-run        # print what it would do, change nothing
#
# It is idempotent: every step first looks whether it is needed, and a second run
# changes nothing (and says so). What it does:
#   1. checks Node.js >= 20.19 at /usr/bin/node (the unit runs that one)
#   2. copies this checkout to $UPREZ_HOME (/opt/uprez) unless it already is there
#   3. sets it up there: node scripts/setup.mjs run (Debian packages, npm
#      dependencies, the native addon, the TypeScript build)
#   4. creates the system user uprez (no login, home /var/lib/uprez, groups video, render)
#   5. creates the photo folder /var/lib/uprez/photos (with the sample photos, the
#      first time), writable by group uprez
#   6. creates $UPREZ_ETC/config.json (/etc/uprez) only if it does not exist
#   7. installs the unit as /etc/systemd/system/uprez.service, enables and starts it
#
# Environment: UPREZ_HOME (default /opt/uprez), UPREZ_ETC (default /etc/uprez).
set -euo pipefail

UPREZ_HOME=${UPREZ_HOME:-/opt/uprez}
UPREZ_ETC=${UPREZ_ETC:-/etc/uprez}
readonly NODE=/usr/bin/node                 # what ExecStart= runs
readonly SERVICE_USER=uprez
readonly STATE_DIR=/var/lib/uprez           # the unit's StateDirectory=uprez
readonly PHOTOS_DIR=$STATE_DIR/photos
readonly UNIT_FILE=/etc/systemd/system/uprez.service
readonly CONFIG_FILE=$UPREZ_ETC/config.json
# The checkout this script belongs to (maybe $UPREZ_HOME itself).
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
readonly SOURCE_DIR

dry_run=0
changes=0        # how many things this run changed (or, dry, would change)
restart=0        # whether a running service must restart to pick up a change

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

for argument in "$@"; do
  case $argument in
    --dry-run|-n) dry_run=1 ;;
    --help|-h) usage; exit 0 ;;
    *) printf 'install.sh: unknown argument %s (try --help)\n' "$argument" >&2; exit 2 ;;
  esac
done

say() { printf '[install] %s\n' "$*"; }
kept() { say "kept: $*"; }
fail() { printf '[install] error: %s\n' "$*" >&2; exit 1; }

# act DESCRIPTION COMMAND...: does it (or, with --dry-run, prints it) and counts a change.
act() {
  local description=$1
  shift
  changes=$((changes + 1))
  if ((dry_run)); then
    say "would $description:$(printf ' %q' "$@")"
  else
    say "$description"
    "$@"
  fi
}

# A problem that stops a real run; a dry run reports it and goes on.
problem() {
  if ((dry_run)); then
    say "problem (a real run stops here): $*"
  else
    fail "$*"
  fi
}

systemd_running() { [[ -d /run/systemd/system ]]; }

# The changes that take more than one command (act prints their name and arguments).
copy_tree() {
  mkdir -p "$2"
  cp -R --preserve=mode,timestamps "$1/." "$2/"
}
fix_dir() {
  chown "$SERVICE_USER:$SERVICE_USER" "$1"
  chmod "$2" "$1"
}
write_config() {
  install -d -m 0755 "$UPREZ_ETC"
  # Written aside and renamed: never a half-written config, even if this is interrupted.
  cat >"$CONFIG_FILE.tmp" <<'JSON'
{
  "folder": "/var/lib/uprez/photos",
  "backend": "auto"
}
JSON
  chmod 0644 "$CONFIG_FILE.tmp"
  mv "$CONFIG_FILE.tmp" "$CONFIG_FILE"
}

# --- 0. root ---------------------------------------------------------------------
if ((EUID != 0)); then
  if ((dry_run)); then
    say "not root: fine for --dry-run; the real thing needs: sudo $0"
  else
    fail "this needs root: sudo $0"
  fi
fi
((dry_run)) && say "dry run: nothing is changed, each action is printed as 'would ...'"

# --- 1. Node.js --------------------------------------------------------------------
nodesource_help="Install Node.js 20 from NodeSource (Debian's own is 18, too old):
    curl -fsSL https://deb.nodesource.com/setup_20.x -o /tmp/nodesource_setup.sh
    sudo bash /tmp/nodesource_setup.sh
    sudo apt-get install -y nodejs
  then run this again."
if [[ ! -x $NODE ]]; then
  problem "no Node.js at $NODE (uprez.service runs that one). $nodesource_help"
else
  node_version=$("$NODE" -p process.versions.node)
  IFS=. read -r node_major node_minor _ <<<"$node_version"
  if ((node_major < 20 || (node_major == 20 && node_minor < 19))); then
    problem "Node.js $node_version at $NODE is too old: uprez needs >= 20.19. $nodesource_help"
  else
    kept "Node.js $node_version at $NODE"
  fi
fi

# --- 2. the repository in $UPREZ_HOME ------------------------------------------------
# Build outputs and caches stay out: step 3 makes them in $UPREZ_HOME for this machine.
rsync_options=(--recursive --links --perms --times --delete --itemize-changes
  --exclude=/node_modules/ --exclude=/dist/ --exclude=/out/ --exclude=/test/vm/.cache/
  --exclude=/packages/*/build/ --exclude=/packages/*/node_modules/)
home_real=$(realpath -m "$UPREZ_HOME")
if [[ $home_real == "$SOURCE_DIR" ]]; then
  kept "the repository is already at $UPREZ_HOME"
elif command -v rsync >/dev/null; then
  # Files come to belong to root (no --owner/--group): the service may only read them.
  rsync_plan=$(rsync --dry-run "${rsync_options[@]}" "$SOURCE_DIR/" "$UPREZ_HOME/")
  pending=$(grep -c . <<<"$rsync_plan" || true)
  if ((pending == 0)); then
    kept "$UPREZ_HOME is the same as $SOURCE_DIR"
  else
    act "copy $SOURCE_DIR to $UPREZ_HOME ($pending changes)" \
      rsync "${rsync_options[@]}" "$SOURCE_DIR/" "$UPREZ_HOME/"
    restart=1
  fi
else
  act "copy $SOURCE_DIR to $UPREZ_HOME (no rsync: a full copy)" copy_tree "$SOURCE_DIR" "$UPREZ_HOME"
  restart=1
fi

# --- 3. set-up: Debian packages, npm dependencies, the addon, the TypeScript build ----
# setup.mjs does only what is missing; "running:" lines other than the compiler are changes.
if ((dry_run)); then
  say "would run, in $UPREZ_HOME: $NODE scripts/setup.mjs run (it installs or builds only what is missing)"
else
  say "checking the set-up in $UPREZ_HOME: node scripts/setup.mjs run"
  setup_log=$(mktemp)
  trap 'rm -f "$setup_log"' EXIT
  (cd "$UPREZ_HOME" && "$NODE" scripts/setup.mjs run) 2>&1 | tee "$setup_log" ||
    fail "the set-up in $UPREZ_HOME failed (its last lines above say why); fix that, then run this again"
  if grep '^\[setup\] running:' "$setup_log" | grep -vq 'typescript/bin/tsc'; then
    changes=$((changes + 1))
    restart=1
  fi
fi

# --- 4. the system user ------------------------------------------------------------
for group in video render; do
  # video and render exist on Raspberry Pi OS and Debian (udev); just in case:
  getent group "$group" >/dev/null || act "create the system group $group" groupadd --system "$group"
done
if ! getent passwd "$SERVICE_USER" >/dev/null; then
  act "create the system user $SERVICE_USER (no login, home $STATE_DIR, groups video and render)" \
    useradd --system --user-group --home-dir "$STATE_DIR" --no-create-home \
    --shell /usr/sbin/nologin --comment "uprez display daemon" --groups video,render "$SERVICE_USER"
  restart=1
else
  missing_groups=()
  for group in video render; do
    id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx "$group" || missing_groups+=("$group")
  done
  if ((${#missing_groups[@]} > 0)); then
    act "add user $SERVICE_USER to ${missing_groups[*]}" usermod --append --groups "$(IFS=,; echo "${missing_groups[*]}")" "$SERVICE_USER"
    restart=1
  else
    kept "user $SERVICE_USER ($(id "$SERVICE_USER"))"
  fi
fi

# --- 5. the photo folder -------------------------------------------------------------
# ensure_dir PATH MODE: the folder, owned by uprez:uprez, with that mode.
ensure_dir() {
  local path=$1 mode=$2
  if [[ ! -d $path ]]; then
    act "create $path (owner $SERVICE_USER, mode $mode)" install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m "$mode" "$path"
    return 0
  fi
  local actual
  actual=$(stat -c '%U:%G %a' "$path")
  if [[ $actual != "$SERVICE_USER:$SERVICE_USER ${mode#0}" ]]; then
    act "fix the owner and mode of $path (was $actual)" fix_dir "$path" "$mode"
  else
    kept "$path ($actual)"
  fi
}
# 0750: the unit's StateDirectoryMode; group uprez may go through it to the photos.
ensure_dir "$STATE_DIR" 0750
new_photos_dir=0
[[ -d $PHOTOS_DIR ]] || new_photos_dir=1
# 2775: group uprez may write; the setgid bit gives new files the group uprez.
ensure_dir "$PHOTOS_DIR" 2775
if ((new_photos_dir)); then
  # Something to show on the first start; only into a new folder, so deleted samples stay deleted.
  samples=("$SOURCE_DIR"/config/sample-photos/*.jpg)
  if [[ -e ${samples[0]} ]]; then
    act "copy the ${#samples[@]} sample photos into $PHOTOS_DIR (delete them once yours are there)" \
      install -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0664 "${samples[@]}" "$PHOTOS_DIR/"
  fi
fi

# --- 6. the configuration ------------------------------------------------------------
if [[ -e $CONFIG_FILE ]]; then
  kept "$CONFIG_FILE (yours: never overwritten)"
else
  act "create $CONFIG_FILE (folder $PHOTOS_DIR, backend auto, the other options default)" write_config
  restart=1
fi

# --- 7. the unit ---------------------------------------------------------------------
unit_source=$SOURCE_DIR/systemd/uprez.service
unit_changed=0
if cmp -s "$unit_source" "$UNIT_FILE"; then
  kept "$UNIT_FILE (same as systemd/uprez.service)"
else
  act "install the unit $UNIT_FILE" install -m 0644 "$unit_source" "$UNIT_FILE"
  unit_changed=1
  restart=1
fi
if [[ -e /etc/default/uprez ]]; then
  say "note: /etc/default/uprez is no longer read (options now go in $CONFIG_FILE); delete it when you like"
fi

if ! systemd_running; then
  say "systemd is not running here (a container?): the unit is not enabled nor started"
else
  ((unit_changed)) && act "reload systemd's units" systemctl daemon-reload
  if [[ $(systemctl is-enabled uprez.service 2>/dev/null || true) != enabled ]]; then
    act "enable uprez.service (start at boot)" systemctl enable uprez.service
  else
    kept "uprez.service is enabled"
  fi
  # Type=notify: start/restart return once the first frame is on the screen.
  state=$(systemctl is-active uprez.service || true)
  if [[ $state == inactive || $state == failed ]]; then
    act "start uprez.service (waits for the first frame)" systemctl start uprez.service || {
      systemctl --no-pager status uprez.service || true
      fail "uprez.service did not start; its log: journalctl -u uprez -b --no-pager | tail -50"
    }
  elif ((restart)); then
    act "restart uprez.service (something it uses changed)" systemctl restart uprez.service
  elif [[ $state == active ]]; then
    kept "uprez.service is running"
  else
    # activating: starting, or waiting to restart after a failure (Restart=always does that).
    kept "uprez.service is $state ($(systemctl show -p SubState --value uprez.service)); if it keeps restarting: journalctl -u uprez -b"
  fi
fi

# --- done ----------------------------------------------------------------------------
echo
if ((changes == 0)); then
  say "nothing to change: everything was already in place"
elif ((dry_run)); then
  say "dry run: $changes change(s) would be made"
else
  say "done: $changes change(s)"
fi
if ((!dry_run)) && systemd_running; then
  systemctl --no-pager --lines=5 status uprez.service || true
fi
cat <<EOF

  status:        curl http://127.0.0.1:8080/status
  screen:        curl -o screen.png http://127.0.0.1:8080/screen.png
  logs:          journalctl -u uprez -f
  photos:        copy them into $PHOTOS_DIR, for instance from another machine:
                   rsync -av my-photos/ pi@raspberrypi.local:$PHOTOS_DIR/
                 (as a user in group uprez: sudo usermod -aG uprez pi, then log in again)
  configuration: $CONFIG_FILE, then: sudo systemctl restart uprez
EOF
