#!/usr/bin/env bash
# Runs de.bwaldvogel:mongo-java-server (H2 MVStore backend) on 127.0.0.1 as a second
# MongoDB-wire server for the integration tests, next to FerretDB.
#
#   deployments/mongo-java-server/mongo-java-server.sh start|stop|status|restart|reset
#
# The server and its dependencies come from Maven Central through pom.xml; the small
# main in src/ is compiled into the state dir. Progress goes to stderr; on success
# `start` and `status` print a shell assignment on stdout, so a caller can do
#   eval "$(deployments/mongo-java-server/mongo-java-server.sh start)" && export MOONLIGHT_TEST_MONGO_URI
#
# Environment:
#   MONGO_JAVA_PORT           listen port (default 27018)
#   MONGO_JAVA_IN_MEMORY      1 = keep data in memory only (lost on stop); default: H2 file
#   MOONLIGHT_SERVICES_DIR    state root (default <repo>/.services); state lives in ./mongo-java-server
#   MONGO_JAVA_HEAP_OPTS      JVM heap flags (default -Xms128m -Xmx512m)
#   MONGO_JAVA_START_TIMEOUT  seconds to wait for the server to answer (default 60)
#   MONGO_JAVA_STOP_TIMEOUT   seconds between SIGTERM and SIGKILL (default 20)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly STATE_DIR="${MOONLIGHT_SERVICES_DIR:-${REPO_ROOT}/.services}/mongo-java-server"
readonly BUILD_DIR="${STATE_DIR}/build"
readonly LIB_DIR="${BUILD_DIR}/lib"
readonly DATA_FILE="${STATE_DIR}/data/mongo.mv.db"
readonly PID_FILE="${STATE_DIR}/mongo-java-server.pid"
readonly LOG_FILE="${STATE_DIR}/mongo-java-server.log"
readonly MVN_LOG_FILE="${STATE_DIR}/mvn.log"
readonly PORT="${MONGO_JAVA_PORT:-27018}"
readonly HOST="127.0.0.1"
readonly URI="mongodb://${HOST}:${PORT}"
readonly IN_MEMORY="${MONGO_JAVA_IN_MEMORY:-0}"
readonly HEAP_OPTS="${MONGO_JAVA_HEAP_OPTS:--Xms128m -Xmx512m}"
readonly START_TIMEOUT="${MONGO_JAVA_START_TIMEOUT:-60}"
readonly STOP_TIMEOUT="${MONGO_JAVA_STOP_TIMEOUT:-20}"
readonly MAIN_CLASS="io.github.moonlightoss.mongojavaserver.Main"
# Marks our JVM's command line, so a recycled pid is never mistaken for the server.
readonly MARKER="-Dmoonlight.service=mongo-java-server"

readonly CLASSPATH_="${BUILD_DIR}/classes:${LIB_DIR}/*"

print_env() {
  printf 'MOONLIGHT_TEST_MONGO_URI=%s\n' "${URI}"
}

readonly SERVICE_NAME="mongo-java-server"
readonly ENDPOINT="${URI}"
readonly RESET_WHAT="all databases (the Maven build stays cached)"
# shellcheck source-path=SCRIPTDIR source=../lib/jvm-service.sh
source "${SCRIPT_DIR}/../lib/jvm-service.sh"

# build compiles the main and copies the jars once; the stamp holds a checksum of the
# pom and sources so an edit rebuilds.
build() {
  local stamp="${BUILD_DIR}/.sources.cksum" want
  want="$(cd "${SCRIPT_DIR}" && find pom.xml src -type f | LC_ALL=C sort | xargs cat | cksum)"
  if [[ -f "${stamp}" && "$(<"${stamp}")" == "${want}" ]]; then
    return 0
  fi
  log "building with Maven into ${BUILD_DIR} (first run only; log: ${MVN_LOG_FILE})"
  rm -rf "${BUILD_DIR}"
  mkdir -p "${BUILD_DIR}"
  if ! mvn -B -Dstyle.color=never -f "${SCRIPT_DIR}/pom.xml" \
    -Dmoonlight.build.dir="${BUILD_DIR}" \
    compile dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="${LIB_DIR}" \
    >"${MVN_LOG_FILE}" 2>&1; then
    tail -n 30 "${MVN_LOG_FILE}" >&2 || true
    die "maven build failed (is Maven Central reachable?)"
  fi
  printf '%s\n' "${want}" >"${stamp}"
}

# answers is true once the server replies ok to a wire-protocol ping, not merely
# accepts TCP.
answers() {
  port_open "${PORT}" || return 1
  "${JAVA}" -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "${CLASSPATH_}" "${MAIN_CLASS}" --ping "${PORT}" >/dev/null 2>&1
}

start() {
  local pid started
  local -a storage
  if pid_alive; then
    log "already running (pid $(<"${PID_FILE}"))"
    print_env
    return 0
  fi
  check_tools
  rm -f "${PID_FILE}"
  if port_open "${PORT}"; then
    die "port ${PORT} on ${HOST} is in use by another process; set MONGO_JAVA_PORT"
  fi
  mkdir -p "${STATE_DIR}"
  build
  if [[ "${IN_MEMORY}" == "1" ]]; then
    storage=(--in-memory)
  else
    storage=(--file "${DATA_FILE}")
  fi
  if [[ -f "${LOG_FILE}" ]]; then
    mv -f "${LOG_FILE}" "${LOG_FILE}.1"
  fi

  started="${SECONDS}"
  # Job control gives the JVM its own process group, so a Ctrl-C aimed at `make test`
  # does not kill the server mid-write; nohup keeps it alive when the terminal goes.
  # 9>&- keeps the JVM from inheriting (and forever holding) the command lock.
  set -m
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of JVM flags.
  nohup "${JAVA}" ${HEAP_OPTS} "${MARKER}" -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSS" \
    -Dorg.slf4j.simpleLogger.log.de.bwaldvogel.mongo.wire.MongoWireProtocolHandler=warn \
    -cp "${CLASSPATH_}" "${MAIN_CLASS}" --port "${PORT}" "${storage[@]}" \
    >"${LOG_FILE}" 2>&1 </dev/null 9>&- &
  pid=$!
  set +m
  printf '%s\n' "${pid}" >"${PID_FILE}"
  log "started pid ${pid}, waiting up to ${START_TIMEOUT}s for ${URI} (log: ${LOG_FILE})"

  await_ready "${pid}" 0.5
  log "ready in $((SECONDS - started))s"
  print_env
}

reset() {
  stop
  log "deleting $(dirname "${DATA_FILE}")"
  rm -rf "$(dirname "${DATA_FILE}")"
}

main "$@"
