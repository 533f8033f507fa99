#!/usr/bin/env bash
# Runs a real single-node Apache Kafka 4.4.0 broker (KRaft, broker+controller in one
# JVM) on 127.0.0.1 for the integration and reliability tests.
#
#   deployments/kafka/kafka.sh start|stop|status|restart|reset
#
# Kafka comes from Maven Central through pom.xml (`mvn dependency:copy-dependencies`);
# nothing else is downloaded. Progress goes to stderr; on success `start` and `status`
# print shell assignments on stdout, so a caller can do
#   eval "$(deployments/kafka/kafka.sh start)" && export MOONLIGHT_TEST_KAFKA_BROKERS
#
# Environment:
#   KAFKA_PORT             client listener port (default 19092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default 19093)
#   MOONLIGHT_SERVICES_DIR state root (default <repo>/.services); state lives in ./kafka
#   KAFKA_HEAP_OPTS        JVM heap flags (default -Xms256m -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90)
#   KAFKA_STOP_TIMEOUT     seconds between SIGTERM and SIGKILL (default 30)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/../.." && pwd)"
readonly SCRIPT_DIR REPO_ROOT
readonly STATE_DIR="${MOONLIGHT_SERVICES_DIR:-${REPO_ROOT}/.services}/kafka"
readonly LIB_DIR="${STATE_DIR}/lib"
readonly DATA_DIR="${STATE_DIR}/data"
readonly CONFIG_FILE="${STATE_DIR}/server.properties"
readonly ADMIN_CONFIG_FILE="${STATE_DIR}/admin.properties"
readonly LOG4J_FILE="${STATE_DIR}/log4j2.properties"
readonly PID_FILE="${STATE_DIR}/kafka.pid"
readonly LOG_FILE="${STATE_DIR}/kafka.log"
readonly MVN_LOG_FILE="${STATE_DIR}/mvn.log"
readonly FORMAT_LOG_FILE="${STATE_DIR}/format.log"
readonly CLUSTER_ID_FILE="${STATE_DIR}/cluster.id"
readonly PORT="${KAFKA_PORT:-19092}"
readonly CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
readonly HOST="127.0.0.1"
readonly BROKERS="${HOST}:${PORT}"
readonly HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
readonly START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
readonly STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
# Marks our JVM's command line, so a recycled pid is never mistaken for the broker.
readonly MARKER="-Dmoonlight.service=kafka"

print_env() {
  printf 'KAFKA_BROKERS=%s\n' "${BROKERS}"
  printf 'MOONLIGHT_TEST_KAFKA_BROKERS=%s\n' "${BROKERS}"
}

readonly SERVICE_NAME="kafka"
readonly ENDPOINT="${BROKERS}"
readonly RESET_WHAT="all topics and offsets (the Maven jars stay cached)"
# shellcheck source-path=SCRIPTDIR source=../lib/jvm-service.sh
source "${SCRIPT_DIR}/../lib/jvm-service.sh"

# fetch_libs copies Kafka's jars into LIB_DIR once; the stamp holds the pom's hash so
# editing pom.xml (e.g. a version bump) refetches.
fetch_libs() {
  local stamp="${LIB_DIR}/.pom.cksum" want
  want="$(cksum <"${SCRIPT_DIR}/pom.xml")"
  if [[ -f "${stamp}" && "$(<"${stamp}")" == "${want}" ]]; then
    return 0
  fi
  log "fetching Apache Kafka jars with Maven into ${LIB_DIR} (first run only; log: ${MVN_LOG_FILE})"
  rm -rf "${LIB_DIR}"
  mkdir -p "${LIB_DIR}"
  if ! mvn -B -Dstyle.color=never -f "${SCRIPT_DIR}/pom.xml" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="${LIB_DIR}" \
    >"${MVN_LOG_FILE}" 2>&1; then
    tail -n 30 "${MVN_LOG_FILE}" >&2 || true
    die "mvn dependency:copy-dependencies failed (is Maven Central reachable?)"
  fi
  printf '%s\n' "${want}" >"${stamp}"
}

write_config() {
  # The voter set is static (controller.quorum.voters), so changing the ports later
  # only needs a restart, not a reformat.
  cat >"${CONFIG_FILE}" <<EOF
# Written by deployments/kafka/kafka.sh on every start; edits are overwritten.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}
listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}
advertised.listeners=PLAINTEXT://${HOST}:${PORT}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${DATA_DIR}
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
default.replication.factor=1
group.initial.rebalance.delay.ms=0
# Room for oversized test messages, so the consumer (not the broker) rejects them to
# the dead-letter topic with its reason, as it does on the embedded broker.
message.max.bytes=16777216
replica.fetch.max.bytes=16777216
EOF
  cat >"${ADMIN_CONFIG_FILE}" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=8000
EOF
  cat >"${LOG4J_FILE}" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
EOF
}

# format_storage runs `kafka-storage format` once per data dir; --ignore-formatted
# keeps a restart with existing data harmless.
format_storage() {
  local cluster_id
  if [[ -f "${DATA_DIR}/meta.properties" ]]; then
    return 0
  fi
  if [[ ! -f "${CLUSTER_ID_FILE}" ]]; then
    "${JAVA}" -cp "${LIB_DIR}/*" kafka.tools.StorageTool random-uuid >"${CLUSTER_ID_FILE}"
  fi
  cluster_id="$(<"${CLUSTER_ID_FILE}")"
  log "formatting storage in ${DATA_DIR} (cluster ${cluster_id})"
  mkdir -p "${DATA_DIR}"
  if ! "${JAVA}" -Dlog4j2.configurationFile="${LOG4J_FILE}" -cp "${LIB_DIR}/*" kafka.tools.StorageTool \
    format --ignore-formatted --cluster-id "${cluster_id}" --config "${CONFIG_FILE}" \
    >"${FORMAT_LOG_FILE}" 2>&1; then
    tail -n 30 "${FORMAT_LOG_FILE}" >&2 || true
    die "kafka-storage format failed (log: ${FORMAT_LOG_FILE})"
  fi
}

# answers is true once the broker serves metadata, not merely accepts TCP.
answers() {
  # A short-lived JVM: C1 only and serial GC start faster and leave the CPU to the broker.
  local -a cmd=("${JAVA}" -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
    -Dlog4j2.configurationFile="${LOG4J_FILE}" -cp "${LIB_DIR}/*"
    org.apache.kafka.tools.TopicCommand --bootstrap-server "${BROKERS}"
    --command-config "${ADMIN_CONFIG_FILE}" --list)
  port_open "${PORT}" || return 1
  if command -v timeout >/dev/null 2>&1; then
    timeout 20 "${cmd[@]}" >/dev/null 2>&1
  else
    "${cmd[@]}" >/dev/null 2>&1
  fi
}

start() {
  local pid started p
  if pid_alive; then
    log "already running (pid $(<"${PID_FILE}"))"
    print_env
    return 0
  fi
  check_tools
  rm -f "${PID_FILE}"
  for p in "${PORT}" "${CONTROLLER_PORT}"; do
    if port_open "${p}"; then
      die "port ${p} on ${HOST} is in use by another process; set KAFKA_PORT/KAFKA_CONTROLLER_PORT"
    fi
  done
  mkdir -p "${STATE_DIR}"
  fetch_libs
  write_config
  format_storage
  if [[ -f "${LOG_FILE}" ]]; then
    mv -f "${LOG_FILE}" "${LOG_FILE}.1"
  fi

  started="${SECONDS}"
  # Job control gives the JVM its own process group, so a Ctrl-C aimed at `make test`
  # does not kill the broker mid-write; nohup keeps it alive when the terminal goes.
  # 9>&- keeps the JVM from inheriting (and forever holding) the command lock.
  set -m
  # shellcheck disable=SC2086 # HEAP_OPTS is a list of JVM flags.
  nohup "${JAVA}" ${HEAP_OPTS} "${MARKER}" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="${LOG4J_FILE}" \
    -cp "${LIB_DIR}/*" kafka.Kafka "${CONFIG_FILE}" >"${LOG_FILE}" 2>&1 </dev/null 9>&- &
  pid=$!
  set +m
  printf '%s\n' "${pid}" >"${PID_FILE}"
  log "started pid ${pid}, waiting up to ${START_TIMEOUT}s for ${BROKERS} (log: ${LOG_FILE})"

  await_ready "${pid}" 1
  log "ready in $((SECONDS - started))s"
  print_env
}

reset() {
  stop
  log "deleting ${DATA_DIR}"
  rm -rf "${DATA_DIR}" "${CLUSTER_ID_FILE}"
}

main "$@"
