# Shared parts of the scripts that run a JVM service for the tests
# (deployments/kafka/kafka.sh, deployments/mongo-java-server/mongo-java-server.sh).
# Source it after setting:
#   SERVICE_NAME   prefix of log lines
#   STATE_DIR      state root of the service (lock file lives there)
#   PID_FILE       pid file of the running JVM
#   MARKER         -D flag on the JVM's command line, so a recycled pid is never mistaken for it
#   HOST PORT      where it listens
#   START_TIMEOUT  seconds to wait for it to answer
#   STOP_TIMEOUT   seconds between SIGTERM and SIGKILL
#   LOG_FILE       its log, whose tail is shown when it fails to start
#   ENDPOINT       what `status` reports (e.g. 127.0.0.1:19092)
#   RESET_WHAT     what `reset` deletes, for the usage text
# and defining the functions start, reset, print_env and answers (true once it serves).
# shellcheck shell=bash

readonly INSTALL_HINT="install OpenJDK 17 (or newer) and Maven:
  Debian/Ubuntu: apt-get install -y openjdk-17-jdk-headless maven
  Fedora/RHEL:   dnf install -y java-17-openjdk-devel maven
  macOS:         brew install openjdk@17 maven"

JAVA="java"
if [[ -n "${JAVA_HOME:-}" && -x "${JAVA_HOME}/bin/java" ]]; then
  JAVA="${JAVA_HOME}/bin/java"
fi
readonly JAVA

log() { printf '%s: %s\n' "${SERVICE_NAME}" "$*" >&2; }
die() {
  log "$*"
  exit 1
}

# java_major prints the major version of $JAVA ("1.8.0_x" -> 8, "17.0.15" -> 17).
java_major() {
  local version
  version="$("${JAVA}" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }')"
  if [[ "${version}" == 1.* ]]; then
    version="${version#1.}"
  fi
  printf '%s\n' "${version%%[.+-]*}"
}

check_tools() {
  local major
  if ! command -v "${JAVA}" >/dev/null 2>&1; then
    die "java not found; ${INSTALL_HINT}"
  fi
  major="$(java_major)"
  if ! [[ "${major}" =~ ^[0-9]+$ ]] || ((major < 17)); then
    die "java ${major:-unknown} is too old (17+ needed); ${INSTALL_HINT}"
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    die "mvn not found; ${INSTALL_HINT}"
  fi
}

# pid_alive reports whether the pid file names a live JVM that is our service.
pid_alive() {
  local pid
  [[ -f "${PID_FILE}" ]] || return 1
  pid="$(<"${PID_FILE}")"
  [[ "${pid}" =~ ^[0-9]+$ ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  ps -p "${pid}" -o args= 2>/dev/null | grep -q -- "${MARKER}"
}

# port_open reports whether HOST:PORT (or HOST:$1) accepts a connection.
port_open() {
  (exec 3<>"/dev/tcp/${HOST}/${1:-${PORT}}") 2>/dev/null
}

show_log_tail() {
  log "$1; last log lines (${LOG_FILE}):"
  tail -n 40 "${LOG_FILE}" >&2 || true
}

# await_ready waits until `answers` (defined by the script) succeeds for the JVM
# started as pid $1, polling every $2 seconds for up to START_TIMEOUT; on failure
# it shows the log's tail, stops what is left and exits.
await_ready() {
  local pid="$1" interval="$2" deadline=$((SECONDS + START_TIMEOUT))
  until answers; do
    if ! kill -0 "${pid}" 2>/dev/null; then
      rm -f "${PID_FILE}"
      show_log_tail "${SERVICE_NAME} exited during startup"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "${SERVICE_NAME} did not answer within ${START_TIMEOUT}s"
      stop || true
      exit 1
    fi
    sleep "${interval}"
  done
}

stop() {
  local pid deadline
  if ! pid_alive; then
    rm -f "${PID_FILE}"
    log "not running"
    return 0
  fi
  pid="$(<"${PID_FILE}")"
  log "stopping pid ${pid}"
  kill -TERM "${pid}" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "${pid}" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "still running after ${STOP_TIMEOUT}s, sending SIGKILL"
      kill -KILL "${pid}" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  # The JVM can linger a moment after SIGKILL; the port must be free for a restart.
  while kill -0 "${pid}" 2>/dev/null; do
    sleep 0.2
  done
  rm -f "${PID_FILE}"
  log "stopped"
}

status() {
  if pid_alive; then
    log "running (pid $(<"${PID_FILE}"), ${ENDPOINT})"
    print_env
    return 0
  fi
  log "not running"
  return 3
}

# lock serialises commands, so two test runs calling `start` at once cannot launch two
# JVMs over one pid file. flock is Linux-only; elsewhere the commands run unlocked.
lock() {
  mkdir -p "${STATE_DIR}"
  command -v flock >/dev/null 2>&1 || return 0
  exec 9>"${STATE_DIR}/.lock"
  flock -w 300 9 || die "another ${0##*/} command has held ${STATE_DIR}/.lock for 300s"
}

main() {
  case "${1:-}" in
    start | stop | restart | reset) lock ;;
    *) ;;
  esac
  case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    restart)
      stop
      start
      ;;
    reset) reset ;;
    *)
      printf 'usage: %s start|stop|status|restart|reset\n' "$0" >&2
      printf '  reset = stop and delete %s\n' "${RESET_WHAT}" >&2
      exit 2
      ;;
  esac
}
