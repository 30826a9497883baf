#!/usr/bin/env bash
# TLS to Redis through stunnel (deploy/redis-tls): redis-server serves TLS only (port 0, a
# tls-port, client certificates required, a password), stunnel4 runs deploy/redis-tls/stunnel.conf
# (its addresses and paths replaced by this run's) as the client-side tunnel, and a real
# signpost-intake (with the test run's Kafka) takes a referral through it: the referral is
# acknowledged, read back, and its keys are in that Redis. Also: a plaintext client is refused by
# the TLS port, and stunnel given another CA, or expecting another host name than the certificate
# names, does not connect (the certificate's chain and name are verified).
# usage: redis_tls_test.sh KAFKA_DIR BUILD_DIR
set -euo pipefail
kafka_dir=$1
build=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
source "$root/tests/clients/client_test_env.sh"
command -v stunnel4 >/dev/null || fail "stunnel4 is missing (tools/install-deps)"

"$root/tools/tls" make "$work/tls" || fail "tools/tls"
"$root/tools/tls" make "$work/other-ca" || fail "tools/tls (another CA)"
(umask 077 && openssl rand -hex 32 >"$work/redis-password")
password=$(cat "$work/redis-password")

tls_port=$("$root/tools/free-port")
(umask 077 && printf 'requirepass %s\n' "$password" >"$work/redis.conf")
redis-server "$work/redis.conf" --port 0 --tls-port "$tls_port" --bind 127.0.0.1 --dir "$work" \
  --save "" --appendonly no --tls-cert-file "$work/tls/server.pem" \
  --tls-key-file "$work/tls/server.key" --tls-ca-cert-file "$work/tls/ca.pem" \
  --tls-auth-clients yes --logfile "$work/redis.log" &
pids+=($!)
export REDISCLI_AUTH="$password"
tls_cli=(redis-cli -p "$tls_port" --tls --cacert "$work/tls/ca.pem" --cert "$work/tls/client.pem"
  --key "$work/tls/client.key")
for _ in $(seq 1 100); do
  [ "$("${tls_cli[@]}" ping 2>/dev/null)" = PONG ] && break
  sleep 0.05
done
[ "$("${tls_cli[@]}" ping 2>/dev/null)" = PONG ] || fail "redis-server with TLS did not start"

# A plaintext client at the TLS port gets no answer: the handshake fails and Redis drops it.
if out=$(redis-cli -p "$tls_port" ping 2>&1) && [ "$out" = PONG ]; then
  fail "the TLS port answered a plaintext PING"
fi
echo "plaintext PING to the TLS port: refused ($(echo $out))"

# stunnel from deploy/redis-tls/stunnel.conf with this run's addresses and certificates.
start_stunnel() { # name ca-dir [host name expected]: sets tunnel_port
  local name=$1 ca=$2 host=${3:-localhost}
  tunnel_port=$("$root/tools/free-port")
  sed -e "s|^accept = .*|accept = 127.0.0.1:$tunnel_port|" \
    -e "s|^connect = .*|connect = 127.0.0.1:$tls_port|" \
    -e "s|^checkHost = .*|checkHost = $host|" \
    -e "s|^CAfile = .*|CAfile = $ca/ca.pem|" \
    -e "s|^cert = .*|cert = $work/tls/client.pem|" \
    -e "s|^key = .*|key = $work/tls/client.key|" \
    "$root/deploy/redis-tls/stunnel.conf" >"$work/$name.conf"
  grep -q "^verifyChain = yes" "$work/$name.conf" || fail "stunnel.conf does not verify the server"
  grep -q "^checkHost = $host\$" "$work/$name.conf" ||
    fail "stunnel.conf does not check the server's name (checkHost)"
  stunnel4 "$work/$name.conf" >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$tunnel_port") 2>/dev/null && return 0
    sleep 0.05
  done
  fail "stunnel ($name) did not listen"
}

start_stunnel stunnel-other-ca "$work/other-ca"
if out=$(redis-cli -p "$tunnel_port" ping 2>&1) && [ "$out" = PONG ]; then
  fail "stunnel trusting another CA reached Redis: the certificate is not verified"
fi
grep -q "CERT: Verification error\|certificate verify failed\|Rejected by CERT" "$work/stunnel-other-ca.log" ||
  fail "stunnel with another CA did not report a verification failure"
echo "stunnel trusting another CA: not connected (certificate verification failed)"

# The right CA, but a certificate that does not name the host stunnel connects to (another server
# of the same CA): refused too.
start_stunnel stunnel-other-host "$work/tls" redis.other.example
if out=$(redis-cli -p "$tunnel_port" ping 2>&1) && [ "$out" = PONG ]; then
  fail "stunnel expecting another host name reached Redis: the certificate's name is not checked"
fi
grep -q "CERT: Verification error\|certificate verify failed\|Rejected by CERT\|hostname mismatch\|No matching host name" \
  "$work/stunnel-other-host.log" ||
  fail "stunnel expecting another host name did not report a verification failure"
echo "stunnel expecting another host name: not connected (the certificate's name is checked)"

start_stunnel stunnel "$work/tls"
[ "$(redis-cli -p "$tunnel_port" ping 2>&1)" = PONG ] || fail "no PONG through the tunnel"
unset REDISCLI_AUTH
[ "$(redis-cli -p "$tunnel_port" ping 2>&1)" != PONG ] || fail "Redis answered without the password"
export REDISCLI_AUTH="$password"

generate_python
bootstrap=$(cat "$kafka_dir/bootstrap")
prefix="redis-tls-$$-$RANDOM."
SIGNPOST_REDIS_PASSWORD_FILE="$work/redis-password" start_service signpost-intake \
  --kafka-bootstrap "$bootstrap" --topic-prefix "$prefix" --create-topics \
  --redis "127.0.0.1:$tunnel_port"
/usr/bin/python3 - "$work/gen" "$root/tests/clients" "$service_addr" <<'PY' || fail "the referral through the tunnel"
import sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import grpc
from referrals import loneliness_referral
from signpost.v1 import intake_service_pb2, intake_service_pb2_grpc
stub = intake_service_pb2_grpc.IntakeServiceStub(grpc.insecure_channel(sys.argv[3]))
r = loneliness_referral("tls-gp", f"TLS-{time.time_ns()}", "A81001", "9434765919", "M1 1AE")
ack = stub.SubmitReferral(intake_service_pb2.SubmitReferralRequest(referral=r), timeout=30)
assert ack.referral_id, "no referral id"
again = stub.SubmitReferral(intake_service_pb2.SubmitReferralRequest(referral=r), timeout=30)
assert again.referral_id == ack.referral_id, f"a resubmission got another id: {again.referral_id}"
got = stub.GetReferral(intake_service_pb2.GetReferralRequest(referral_id=ack.referral_id),
                       timeout=30)
print(f"referral {ack.referral_id} acknowledged, resubmission de-duplicated, read back "
      f"(state {got.state})")
PY
keys=$("${tls_cli[@]}" dbsize)
[ "$keys" -gt 0 ] || fail "no keys in the TLS-only Redis: intake did not write through the tunnel"
echo "keys written by intake through the tunnel into the TLS-only Redis: $keys"
# Intake is stopped on exit only once its consumer groups have settled: stopping a consumer
# still joining its group trips librdkafka 2.0.2's assignor assertion (librdkafka#4312).
for _ in $(seq 1 60); do
  groups=$("$root/tools/kafka" cli kafka-consumer-groups --bootstrap-server "$bootstrap" --describe \
    --state --group "${prefix}signpost-intake-submissions" --group "${prefix}signpost-intake-status" \
    2>/dev/null || true)
  [ "$(grep -c Stable <<<"$groups")" -ge 2 ] && break
  sleep 1
done
echo "PASS"
