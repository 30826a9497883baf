#!/usr/bin/env python3
"""CPU time used so far by the processes of one benchmark run, by role, as JSON on stdout.

    cpu_snapshot.py --under DIR [--under DIR ...] [--redis HOST:PORT [--redis-password-file F]]

A process counts when its command line names one of the DIRs (the services, the broker and the
relays are all started with paths under their run's folders) or, for redis-server, when its title
is the given address. The machine's own busy time (/proc/stat) comes too, so that what the
benchmark's processes leave to everything else is visible. tools/bench takes one before and one
after each run and reports the difference per referral.

With --redis, the count of Redis's AOF rewrites comes too: a rewrite is a child process that
serialises the whole dataset on one core for seconds, its CPU is not in any process's own time,
and it is what a run's worst latencies most often fall on. A Redis that requires a password
(tools/run's: REDIS_PASSWORD_FILE in its endpoints file) is given it with --redis-password-file.
"""
import argparse
import json
import os
import socket
import time

TICK = os.sysconf("SC_CLK_TCK")


def role_of(cmdline, comm):
    exe = os.path.basename(cmdline[0]) if cmdline else comm
    if exe == "java" and "kafka.Kafka" in cmdline:
        return "broker"
    if exe.startswith("redis-server") or comm == "redis-server":
        return "redis"
    if exe == "signpost-bench-relay":
        role = cmdline[cmdline.index("--role") + 1] if "--role" in cmdline else ""
        return f"relay-{role}" if role else "relay"
    if exe == "signpost-bench-e2e":
        return None  # the load generator reports its own CPU time
    if exe.startswith("signpost-"):
        return exe[len("signpost-"):]
    return None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def redis_persistence(address, password=""):
    """Redis's INFO persistence fields (RESP over a plain socket, after AUTH when a password is
    given), or {} when it does not answer."""
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=2) as s:
            if password:
                secret = password.encode()
                s.sendall(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(secret), secret))
                reply = b""
                while not reply.endswith(b"\r\n"):
                    chunk = s.recv(1024)
                    if not chunk:
                        return {}
                    reply += chunk
                if not reply.startswith(b"+OK"):
                    return {}
            s.sendall(b"*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n")
            data = b""
            while b"\r\n" not in data:
                data += s.recv(65536) or b"\r\n"
            header, _, body = data.partition(b"\r\n")
            if not header.startswith(b"$"):
                return {}
            length = int(header[1:])
            while len(body) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
    except (OSError, ValueError):
        return {}
    fields = {}
    for line in body[:length].decode(errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            fields[name] = value
    return fields


def snapshot(under, redis="", redis_password=""):
    roles = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
            title = " ".join(cmdline)
            ours = any(d in title for d in under) or (
                redis and comm == "redis-server" and title.endswith(redis))
            role = role_of(cmdline, comm) if ours else None
            if role:
                roles[role] = roles.get(role, 0.0) + cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    busy = sum(cpu) - cpu[3] - (cpu[4] if len(cpu) > 4 else 0)  # all but idle and iowait
    out = {"at": time.time(), "roles": roles, "machine_busy_seconds": busy / TICK,
           "machine_cpus": os.cpu_count()}
    persistence = redis_persistence(redis, redis_password) if redis else {}
    if "aof_rewrites" in persistence:
        # Redis counts a rewrite when it forks it: the run it began in is the one that pays.
        out["redis_aof_rewrites_begun"] = int(persistence["aof_rewrites"])
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--under", action="append", default=[])
    parser.add_argument("--redis", default="")
    parser.add_argument("--redis-password-file", default="")
    args = parser.parse_args()
    password = ""
    if args.redis_password_file:
        with open(args.redis_password_file) as f:
            password = f.read().strip()
    print(json.dumps(snapshot(args.under, args.redis, password)))


if __name__ == "__main__":
    main()
