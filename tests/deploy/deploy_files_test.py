#!/usr/bin/python3
"""Keeps the deployment files in deploy/ honest against the code they deploy.

    deploy_files_test.py SOURCE_DIR BUILD_DIR

Parses deploy/Dockerfile, deploy/compose.yaml and every YAML document under deploy/ (Kubernetes
included) and checks:
  - every SIGNPOST_* variable and every --flag given to a Signpost binary is in that binary's
    --help (BUILD_DIR/bin/<binary> --help; CLI11 prints "(Env:SIGNPOST_...)");
  - the topics created by the compose topics service and by the Kubernetes Job are those of
    proto/signpost/v1/topics.tsv: the same names, partition counts, cleanup.policy, retention.ms;
  - the images compose and Kubernetes name are the ones the Dockerfile builds, with one tag, the
    project's version; the runtime stage installs the Debian packages of every shared library
    the binaries link (ldd + dpkg -S) and the build stage the C++ build packages of
    tools/install-deps;
  - per service, the gRPC and metrics ports agree: SIGNPOST_LISTEN / SIGNPOST_METRICS_LISTEN,
    the Dockerfile's defaults and EXPOSE, compose's ports and health checks, the Kubernetes
    container ports, Service ports, probe ports and scrape annotations;
  - health checks and probes use paths the services serve (common/metrics/http_endpoint.cc and
    each service's AddPage);
  - Redis, in compose and Kubernetes: a primary with a password and AOF, a replica (replicaof)
    and three sentinels; each service that uses Redis names the declared sentinels
    (SIGNPOST_REDIS_SENTINELS), the master name they monitor (SIGNPOST_REDIS_MASTER_NAME),
    a password file from a secret mounted into it and the Redis containers
    (SIGNPOST_REDIS_PASSWORD_FILE) and at least one, at most the replicas there are,
    acknowledging replica (SIGNPOST_REDIS_MIN_REPLICAS_ACKED);
  - compose: every depends_on has a condition its target can meet, each service waits for the
    topics, Redis keeps an AOF, follow-up's directory address is matching's gRPC port, the
    region loader is in the profile demo;
  - every Deployment has resource requests and limits, readiness (/readyz) and liveness
    (/healthz) probes, runs as non-root, takes SIGNPOST_INSTANCE_ID from the pod name, has a
    Service and a PodDisruptionBudget that does not block node drains; replicas x consumers per
    pod stay within the partitions of each consumer group's topics, and the monitor runs once;
    kustomization.yaml lists every manifest but the examples (*.example.yaml) and never a Secret;
  - deploy/README.md names every consumer group of common/kafka/consumer_groups.cc, and its
    groups table gives each group the topics the code does, with topics.tsv's partitions;
  - README.md's topics table lists the topics of topics.tsv, in order; the C++ topic table the
    build wrote from topics.tsv (BUILD_DIR/gen/common/kafka/topic_table.h) has every topic.
Every problem is reported, each with the file it is in; the exit code is 1 when there is one.
"""
import os
import re
import shlex
import subprocess
import sys

try:
    import yaml
except ImportError:
    sys.exit("deploy_files_test: PyYAML is missing (Debian: apt-get install python3-yaml)")

SERVICES = ["signpost-intake", "signpost-matching", "signpost-followup", "signpost-monitor"]
TOOLS = ["signpostctl", "signpost-region"]
BINARIES = SERVICES + TOOLS
# Packages of tools/install-deps that the C++ build does not need (tests, tools, the browser
# test, the local Kafka, formatting). Every other package there must be in the Dockerfile's build
# stage, and the build stage installs nothing else.
NOT_FOR_THE_BUILD = {
    "ccache", "python3", "git", "redis-server", "tzdata", "kcat", "openjdk-17-jre-headless",
    "maven", "clang-format", "python3-grpcio", "python3-protobuf", "chromium", "python3-yaml",
    "libbenchmark-dev",  # no target uses Google Benchmark
    "clang-14", "libclang-rt-14-dev",  # the fuzz targets (tools/test --fuzz), not the images
    "openssl",  # the command: tools/tls makes local certificates; the runtime image has its own
    "stunnel4",  # TLS to Redis in tests and tools/run (deploy/redis-tls), not in the build
    "python3-requests", "python3-jsonschema",  # the outside HTTP clients of the FHIR/ORUK tests
}
# Always in debian:12-slim: no need to install them in the runtime stage.
IN_THE_BASE_IMAGE = {"libc6", "libgcc-s1"}
# Sanitizer runtimes, linked when BUILD_DIR is a tools/test --sanitize build: never in an image.
SANITIZER_RUNTIME = re.compile(r"^lib(asan|ubsan|tsan|lsan|hwasan)\d+$")


class Checker:
    def __init__(self, source, build):
        self.source = source
        self.build = build
        self.problems = []
        self.notes = []
        self._help = {}

    def fail(self, where, message):
        self.problems.append(f"{where}: {message}")

    def path(self, *parts):
        return os.path.join(self.source, *parts)

    def rel(self, path):
        return os.path.relpath(path, self.source)

    def read(self, *parts):
        with open(self.path(*parts), encoding="utf-8") as f:
            return f.read()

    # --- what the code says -------------------------------------------------------------------

    def help_of(self, binary):
        """(flags, env vars) in `binary --help`; None when the binary is not built."""
        if binary not in self._help:
            exe = os.path.join(self.build, "bin", binary)
            if not os.access(exe, os.X_OK):
                self.fail(exe, "missing: build the project first (the test reads its --help)")
                self._help[binary] = None
            else:
                out = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=20)
                text = out.stdout + out.stderr
                flags = set(re.findall(r"^\s+(?:-\w,)?(--[A-Za-z0-9][\w-]*)", text, re.M))
                envs = set(re.findall(r"\(Env:(SIGNPOST_\w+)\)", text))
                if not flags:
                    self.fail(exe, f"--help printed no options:\n{text}")
                self._help[binary] = (flags, envs)
        return self._help[binary]

    def load_topics(self):
        self.topics = {}
        for line in self.read("proto", "signpost", "v1", "topics.tsv").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            f = line.split("\t")
            self.topics[f[0]] = {"partitions": int(f[1]), "cleanup.policy": f[2],
                                 "retention.ms": f[3], "key": f[4] if len(f) > 4 else ""}
        if not self.topics:
            self.fail("proto/signpost/v1/topics.tsv", "no topics read")

    def load_groups(self):
        """Consumer groups: name -> topics; and which binary consumes in which group."""
        # The enumerators as the build wrote them from topics.tsv (cmake/topic_table.cmake).
        table = os.path.join(self.build, "gen", "common", "kafka", "topic_table.h")
        try:
            with open(table, encoding="utf-8") as f:
                by_enum = dict(re.findall(r"\{Topic::(k\w+), \"([^\"]+)\"", f.read()))
        except OSError:
            self.fail(table, "missing: configure the build first (it writes the topic table)")
            by_enum = {}
        for name in sorted(set(self.topics) - set(by_enum.values())):
            self.fail(table, f"has no entry for {name} of topics.tsv: reconfigure the build")
        text = self.read("common", "kafka", "consumer_groups.cc")
        self.groups = {}
        group_enum = {}
        for enum, name, topics in re.findall(
                r"\{\s*ConsumerGroup::(k\w+),\s*\"([^\"]+)\",\s*\{([^}]*)\}"
                r"\s*(?:,\s*Fetching::k\w+\s*)?\}", text):
            names = []
            for t in re.findall(r"Topic::(k\w+)", topics):
                if t not in by_enum:
                    self.fail("common/kafka/consumer_groups.cc", f"Topic::{t} is not in topics.tsv")
                else:
                    names.append(by_enum[t])
            self.groups[name] = names
            group_enum[enum] = name
        if not self.groups:
            self.fail("common/kafka/consumer_groups.cc", "no consumer groups read")
        # Per service: its groups, and whether a process runs --consumers members of the group
        # (ServiceHost::AddConsumers given config.common.consumers) or one.
        self.service_groups = {}
        for binary in SERVICES:
            main = self.read("services", binary[len("signpost-"):], "main.cc")
            groups = {}
            for call in re.split(r"AddConsumers\(", main)[1:]:
                call = call.split(";", 1)[0]
                for e in re.findall(r"ConsumerGroup::(k\w+)", call):
                    if e in group_enum:
                        groups[group_enum[e]] = "common.consumers" in call
            self.service_groups[binary] = groups
        m = re.search(r"\bint\s+consumers\s*=\s*(\d+)\s*;",
                      self.read("common", "config", "common_config.h"))
        self.default_consumers = int(m.group(1)) if m else 1

    def load_paths(self):
        """The HTTP paths each service serves on its metrics port."""
        common = set(re.findall(r"server_->Get\(\"(/[^\"]*)\"",
                                self.read("common", "metrics", "http_endpoint.cc")))
        if not {"/healthz", "/readyz"} <= common:
            self.fail("common/metrics/http_endpoint.cc", f"/healthz and /readyz not found in {common}")
        self.paths = {}
        for binary in SERVICES:
            folder = os.path.join(self.source, "services", binary[len("signpost-"):])
            sources = "".join(self.read("services", binary[len("signpost-"):], name)
                              for name in sorted(os.listdir(folder)) if name.endswith(".cc"))
            self.paths[binary] = common | set(re.findall(r"AddPage\(\s*\"(/[^\"]*)\"", sources))

    def load_version(self):
        m = re.search(r"project\(\s*signpost\s+VERSION\s+([\d.]+)", self.read("CMakeLists.txt"))
        self.version = m.group(1) if m else None
        if not self.version:
            self.fail("CMakeLists.txt", "no project VERSION found")

    # --- the Dockerfile -----------------------------------------------------------------------

    def parse_dockerfile(self):
        where = "deploy/Dockerfile"
        text = self.read("deploy", "Dockerfile")
        lines, current = [], ""
        for raw in text.splitlines():
            if not current and (not raw.strip() or raw.lstrip().startswith("#")):
                continue
            if raw.lstrip().startswith("#"):
                continue  # a comment inside a continued instruction
            if raw.rstrip().endswith("\\"):
                current += raw.rstrip()[:-1] + " "
                continue
            lines.append(current + raw)
            current = ""
        stages, stage = {}, None
        for line in lines:
            instr, _, rest = line.strip().partition(" ")
            instr, rest = instr.upper(), rest.strip()
            if instr == "FROM":
                m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
                stage = {"name": m.group(2) or f"#{len(stages)}", "from": m.group(1), "run": [],
                         "copy": [], "env": {}, "expose": set(), "labels": {}, "entrypoint": None,
                         "user": None}
                parent = stages.get(stage["from"])
                if parent:  # inherited from the stage it builds on
                    stage["env"] = dict(parent["env"])
                    stage["user"] = parent["user"]
                    stage["entrypoint"] = parent["entrypoint"]
                    stage["packages"] = parent.get("packages", set())
                    stage["base"] = parent.get("base", parent["from"])
                else:
                    stage["packages"] = set()
                    stage["base"] = stage["from"]
                stages[stage["name"]] = stage
            elif stage is None:
                continue
            elif instr == "RUN":
                stage["run"].append(rest)
                for m in re.finditer(r"apt-get install((?:\s+[^&|;]+))", rest):
                    stage["packages"] = stage["packages"] | {
                        p for p in m.group(1).split() if not p.startswith("-")}
            elif instr == "COPY":
                stage["copy"].append(rest)
            elif instr == "ENV":
                for k, v in re.findall(r"(\w+)=(\"[^\"]*\"|\S+)", rest):
                    stage["env"][k] = v.strip('"')
            elif instr == "EXPOSE":
                stage["expose"] = {int(p.split("/")[0]) for p in rest.split()}
            elif instr == "LABEL":
                for k, v in re.findall(r"([\w.-]+)=(\"[^\"]*\"|\S+)", rest):
                    stage["labels"][k] = v.strip('"')
            elif instr == "ENTRYPOINT":
                try:
                    stage["entrypoint"] = yaml.safe_load(rest)
                except yaml.YAMLError:
                    stage["entrypoint"] = shlex.split(rest)
            elif instr == "USER":
                stage["user"] = rest
        self.stages = stages
        # Images: the stages that carry an image title.
        self.images = {}  # image name -> stage
        for s in stages.values():
            title = s["labels"].get("org.opencontainers.image.title")
            if title:
                self.images[title] = s
        for binary in BINARIES:
            if not any(binary in self.binaries_of_stage(s) for s in self.images.values()):
                self.fail(where, f"no image contains {binary}")

        build = next((s for s in stages.values() if any("cmake --build" in r for r in s["run"])), None)
        if build is None:
            self.fail(where, "no stage runs `cmake --build`")
        else:
            if build["from"] != "debian:12":
                self.fail(where, f"the build stage is FROM {build['from']}, not debian:12")
            built = set()
            for r in build["run"]:
                m = re.search(r"--target\s+((?:[\w-]+\s*)+)", r)
                if m:
                    built |= set(m.group(1).split())
            for binary in BINARIES:
                if binary not in built:
                    self.fail(where, f"the build stage does not build the target {binary}")
            self.check_build_packages(build)
        for name, s in self.images.items():
            if s["base"] != "debian:12-slim":
                self.fail(where, f"image {name} (stage {s['name']}) is not based on debian:12-slim")
            user = (s["user"] or "0").split(":")[0]
            if not user.isdigit() or int(user) == 0:
                self.fail(where, f"image {name} runs as user '{s['user']}': use a numeric uid "
                          "other than 0 (Kubernetes runAsNonRoot checks it)")
            ep = s["entrypoint"] or []
            copied = self.copied_files(s)
            if not ep or copied.get(os.path.normpath(ep[0])) != os.path.basename(ep[0]) or \
                    os.path.basename(ep[0]) not in BINARIES:
                self.fail(where, f"image {name}: ENTRYPOINT {ep} is not a Signpost binary the "
                          "stage copies from the build under that name")
        runtime_packages = set.intersection(*[s["packages"] for s in self.images.values()]) \
            if self.images else set()
        self.check_runtime_packages(runtime_packages)

    @staticmethod
    def copied_files(stage):
        """Image path -> the basename of the file copied there from another stage."""
        files = {}
        for c in stage["copy"]:
            if "--from=" not in c:
                continue
            paths = [p for p in c.split() if not p.startswith("--")]
            sources, dest = paths[:-1], paths[-1]
            for src in sources:
                name = os.path.basename(src)
                target = dest + name if dest.endswith("/") or len(sources) > 1 else dest
                files[os.path.normpath(target)] = name
        return files

    def binaries_of_stage(self, stage):
        """The Signpost binaries in the image under their own name."""
        return {name for path, name in self.copied_files(stage).items()
                if name in BINARIES and os.path.basename(path) == name}

    def check_build_packages(self, build):
        where = "deploy/Dockerfile"
        m = re.search(r"packages=\(\s*(.*?)\)", self.read("tools", "install-deps"), re.S)
        if not m:
            self.fail("tools/install-deps", "no packages=( ... ) list found")
            return
        listed = {p for p in m.group(1).split() if not p.startswith("#")}
        wanted = listed - NOT_FOR_THE_BUILD
        for p in sorted(wanted - build["packages"]):
            self.fail(where, f"tools/install-deps installs {p}, the build stage does not (add it "
                      "there if the C++ build needs it, else to NOT_FOR_THE_BUILD in this test)")
        for p in sorted(build["packages"] - wanted):
            self.fail(where, f"the build stage installs {p}, which is not a C++ build package of "
                      "tools/install-deps")

    def check_runtime_packages(self, installed):
        where = "deploy/Dockerfile"
        for p in ("ca-certificates", "tzdata"):
            if p not in installed:
                self.fail(where, f"the runtime stage does not install {p}")
        libs = {}
        for binary in BINARIES:
            exe = os.path.join(self.build, "bin", binary)
            if not os.path.exists(exe):
                continue
            try:
                out = subprocess.run(["ldd", exe], capture_output=True, text=True, timeout=20).stdout
            except (OSError, subprocess.SubprocessError):
                self.notes.append("ldd is not available: runtime packages not checked")
                return
            for m in re.finditer(r"=>\s+(/\S+)", out):
                libs.setdefault(m.group(1), set()).add(binary)
        if not libs:
            return
        try:
            owners = self.dpkg_owners(sorted(libs))
        except (OSError, subprocess.SubprocessError):
            self.notes.append("dpkg is not available: runtime packages not checked")
            return
        for lib, binaries in sorted(libs.items()):
            package = owners.get(lib)
            if package is None:
                self.fail(where, f"{lib} (linked by {', '.join(sorted(binaries))}) belongs to no "
                          "Debian package: the runtime image would lack it")
            elif package not in installed and package not in IN_THE_BASE_IMAGE and \
                    not SANITIZER_RUNTIME.match(package):
                self.fail(where, f"the runtime stage does not install {package}, which provides "
                          f"{os.path.basename(lib)} linked by {', '.join(sorted(binaries))}")

    @staticmethod
    def dpkg_owners(paths):
        """Library path -> Debian package (tries the /usr-merged and resolved paths too)."""
        candidates = {}
        for p in paths:
            alts = [p, os.path.realpath(p)]
            if p.startswith("/lib"):
                alts.append("/usr" + p)
            if p.startswith("/usr/lib"):
                alts.append(p[len("/usr"):])
            candidates[p] = alts
        every = sorted({a for alts in candidates.values() for a in alts})
        out = subprocess.run(["dpkg", "-S"] + every, capture_output=True, text=True, timeout=60)
        owner = {}
        for line in out.stdout.splitlines():
            pkgs, _, path = line.partition(": ")
            owner[path.strip()] = pkgs.split(",")[0].split(":")[0].strip()
        return {p: next((owner[a] for a in alts if a in owner), None)
                for p, alts in candidates.items()}

    # --- shared checks ------------------------------------------------------------------------

    def check_options(self, where, binaries, envs, flags):
        for binary in binaries:
            known = self.help_of(binary)
            if known is None:
                continue  # reported once: not built
            known_flags, known_envs = known
            for e in sorted(envs):
                if e.startswith("SIGNPOST_") and e not in known_envs:
                    self.fail(where, f"{e} is not a variable of {binary} (not in its --help)")
            for f in sorted(flags):
                if f not in known_flags:
                    self.fail(where, f"{f} is not a flag of {binary} (not in its --help)")

    def check_topic_script(self, where, script):
        """The kafka-topics.sh --create commands of a script against topics.tsv."""
        script = script.replace("$$", "$")  # compose's escape
        joined = re.sub(r"\\\n", " ", script)
        if "kafka-topics.sh" not in joined:
            self.fail(where, "the topics script does not use kafka-topics.sh")
        # Shell functions that run kafka-topics.sh: a --create line may call one of them.
        runners = {name for name, body in re.findall(r"(\w+)\s*\(\)\s*\{(.*?)\n?\s*\}", joined,
                                                     re.S) if "kafka-topics.sh" in body}
        created, lines = {}, {}
        for line in joined.splitlines():
            if "--create" not in line:
                continue
            try:
                tokens = shlex.split(line)
            except ValueError as e:
                self.fail(where, f"cannot read the line {line!r}: {e}")
                continue
            if not tokens or (os.path.basename(tokens[0]) != "kafka-topics.sh"
                              and tokens[0] not in runners):
                self.fail(where, f"a --create that does not run kafka-topics.sh: {line.strip()}")
            topic, partitions, config = None, None, {}
            for i, t in enumerate(tokens[:-1]):
                if t == "--topic":
                    topic = re.sub(r"\$\{SIGNPOST_TOPIC_PREFIX(:-)?\}", "", tokens[i + 1])
                elif t == "--partitions":
                    partitions = tokens[i + 1]
                elif t == "--config" and "=" in tokens[i + 1]:
                    k, _, v = tokens[i + 1].partition("=")
                    config[k] = v
            if topic is None or partitions is None:
                self.fail(where, f"a --create without --topic or --partitions: {line.strip()}")
                continue
            if topic in created:
                self.fail(where, f"{topic} is created twice")
            created[topic] = (partitions, config)
            lines[topic] = line.strip()
        for name in sorted(set(self.topics) - set(created)):
            self.fail(where, f"topic {name} of topics.tsv is not created; add the line\n"
                      f"      {self.create_line(name, lines)}")
        for name in sorted(set(created) - set(self.topics)):
            self.fail(where, f"creates {name}, which is not in topics.tsv")
        for name, (partitions, config) in sorted(created.items()):
            spec = self.topics.get(name)
            if spec is None:
                continue
            if partitions != str(spec["partitions"]):
                self.fail(where, f"{name} gets {partitions} partitions, topics.tsv says "
                          f"{spec['partitions']}")
            for key in ("cleanup.policy", "retention.ms"):
                if config.get(key) != spec[key]:
                    self.fail(where, f"{name}: {key}={config.get(key)}, topics.tsv says {spec[key]}")
        return created

    def create_line(self, name, lines):
        """The --create line for topic `name` in the style of a script's others (`lines`: topic ->
        its line), from one with the same cleanup.policy when there is one."""
        spec = self.topics[name]
        same = [t for t in lines if self.topics.get(t, {}).get("cleanup.policy") ==
                spec["cleanup.policy"]]
        template_topic = (same or sorted(lines) or [None])[0]
        if template_topic is None:
            return f"(no --create line to follow: create {name} as topics.tsv says)"
        line = lines[template_topic].replace(template_topic, name)
        line = re.sub(r"--partitions \S+", f"--partitions {spec['partitions']}", line)
        for key in ("cleanup.policy", "retention.ms"):
            line = re.sub(rf"{re.escape(key)}=\S+", f"{key}={spec[key]}", line)
        return line

    @staticmethod
    def port_of(address):
        m = re.fullmatch(r"(.*):(\d+)", str(address or ""))
        return (m.group(1), int(m.group(2))) if m else (None, None)

    def listen_ports(self, where, env):
        """(gRPC port, metrics port) from SIGNPOST_LISTEN / SIGNPOST_METRICS_LISTEN."""
        ports = []
        for var in ("SIGNPOST_LISTEN", "SIGNPOST_METRICS_LISTEN"):
            host, port = self.port_of(env.get(var))
            if port is None:
                self.fail(where, f"{var} is not set to HOST:PORT (got {env.get(var)!r})")
            elif port == 0:
                self.fail(where, f"{var}={env[var]}: a container needs a fixed port")
            elif host not in ("0.0.0.0", "[::]", ""):
                self.fail(where, f"{var}={env[var]}: listen on every interface (0.0.0.0), or "
                          "nothing outside the container reaches it")
            ports.append(port)
        return tuple(ports)

    def check_image_defaults(self, where, image, grpc, metrics):
        stage = self.images.get(image)
        if stage is None:
            return
        if stage["expose"] != {grpc, metrics}:
            self.fail(where, f"the Dockerfile's {stage['name']} stage EXPOSEs "
                      f"{sorted(stage['expose'])}, the service listens on {[grpc, metrics]}")
        for var, port in (("SIGNPOST_LISTEN", grpc), ("SIGNPOST_METRICS_LISTEN", metrics)):
            if self.port_of(stage["env"].get(var))[1] != port:
                self.fail(where, f"the Dockerfile's {stage['name']} stage sets {var}="
                          f"{stage['env'].get(var)}, here it is port {port}")

    def image_name(self, where, reference):
        """signpost-intake for registry.example.org/x/signpost-intake:0.1.0; checks the tag."""
        reference = re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", str(reference))  # compose defaults
        name, tag = reference, None
        if ":" in reference.rsplit("/", 1)[-1]:
            name, tag = reference.rsplit(":", 1)
        name = name.rsplit("/", 1)[-1]
        if name.startswith("signpost-"):
            if name not in self.images:
                self.fail(where, f"image {reference}: the Dockerfile builds no {name} (it builds "
                          f"{', '.join(sorted(self.images))})")
            if tag != self.version:
                self.fail(where, f"image {reference}: the tag is not the project's version "
                          f"{self.version} (CMakeLists.txt)")
        return name

    # --- compose ------------------------------------------------------------------------------

    def check_compose(self, docs):
        where = "deploy/compose.yaml"
        compose = docs[0] if docs else None
        if not isinstance(compose, dict) or "services" not in compose:
            self.fail(where, "no services")
            return
        services = compose["services"]
        ports_of = {}  # binary -> (service name, grpc, metrics)
        for name, svc in services.items():
            w = f"{where}: service {name}"
            image = self.image_name(w, svc.get("image", ""))
            build = svc.get("build")
            if build is not None:
                target = build.get("target") if isinstance(build, dict) else None
                stage = self.images.get(image)
                if stage is None or stage["name"] != target:
                    self.fail(w, f"builds target {target!r}, but image {image} is the Dockerfile's "
                              f"stage {stage['name'] if stage else None!r}")
                if isinstance(build, dict) and build.get("dockerfile") != "deploy/Dockerfile":
                    self.fail(w, "build.dockerfile is not deploy/Dockerfile")
            env = svc.get("environment") or {}
            if isinstance(env, list):
                env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
            env = {k: ("" if v is None else str(v)) for k, v in env.items()}
            binaries, flags = self.compose_command(w, svc, image)
            if binaries:
                self.check_options(w, binaries, env, flags)
            elif any(k.startswith("SIGNPOST_") for k in env):
                self.fail(w, "sets SIGNPOST_* variables but runs no Signpost binary")
            depends = svc.get("depends_on") or {}
            if isinstance(depends, list):
                self.fail(w, "depends_on without conditions: give each a condition "
                          "(service_healthy, service_completed_successfully)")
            else:
                for dep, cond in depends.items():
                    self.check_dependency(w, services, dep, cond)
            service_binaries = [b for b in binaries if b in SERVICES]
            if not service_binaries:
                continue
            binary = service_binaries[0]
            if binary in ports_of:
                self.fail(w, f"{binary} runs in two services ({ports_of[binary][0]}, {name})")
            grpc, metrics = self.listen_ports(w, env)
            ports_of[binary] = (name, grpc, metrics)
            published = set()
            for p in svc.get("ports") or []:
                text = str(p.get("target") if isinstance(p, dict) else p)
                published.add(int(text.split("/")[0].rsplit(":", 1)[-1]))
            if published != {grpc, metrics}:
                self.fail(w, f"ports publish {sorted(published)}, the service listens on "
                          f"{[grpc, metrics]}")
            self.check_image_defaults(w, image, grpc, metrics)
            self.check_compose_healthcheck(w, svc, binary, metrics)
            if not self.depends_on_topics(services, name):
                self.fail(w, "does not wait for the topics service (depends_on, "
                          "service_completed_successfully)")
        for binary in SERVICES:
            if binary not in ports_of:
                self.fail(where, f"no service runs {binary}")
        # Addresses between the services.
        for name, svc in services.items():
            env = svc.get("environment") or {}
            if not isinstance(env, dict):
                continue
            if "SIGNPOST_DIRECTORY_ADDR" in env and "signpost-matching" in ports_of:
                m_name, m_grpc, _ = ports_of["signpost-matching"]
                if env["SIGNPOST_DIRECTORY_ADDR"] != f"{m_name}:{m_grpc}":
                    self.fail(f"{where}: service {name}", f"SIGNPOST_DIRECTORY_ADDR="
                              f"{env['SIGNPOST_DIRECTORY_ADDR']}, matching is {m_name}:{m_grpc}")
            self.check_compose_infrastructure(f"{where}: service {name}", services, env)
        followup = ports_of.get("signpost-followup")
        if followup:
            env = services[followup[0]].get("environment") or {}
            if "SIGNPOST_DIRECTORY_ADDR" not in env:
                self.fail(f"{where}: service {followup[0]}", "follow-up needs "
                          "SIGNPOST_DIRECTORY_ADDR (matching's gRPC address)")
        # The topics service, Redis with AOF, the demo region loader.
        topic_services = [n for n, s in services.items() if "--create" in self.script_of(s)]
        if len(topic_services) != 1:
            self.fail(where, f"expected one service creating the topics, found {topic_services}")
        for n in topic_services:
            self.check_topic_script(f"{where}: service {n}", self.script_of(services[n]))
        redis = [n for n, s in services.items() if "redis" in str(s.get("image", ""))
                 and "--sentinel" not in self.script_of(s)]
        for n in redis:
            if "--appendonly yes" not in " ".join(map(str, services[n].get("command") or [])):
                self.fail(f"{where}: service {n}", "Redis runs without AOF (--appendonly yes)")
        self.check_compose_redis(where, compose, services)
        region = [n for n, s in services.items() if "signpost-region" in self.script_of(s)
                  or "signpost-region" in str(s.get("entrypoint"))]
        if not region:
            self.fail(where, "no region loader (signpost-region) under the profile demo")
        for n in region:
            if "demo" not in (services[n].get("profiles") or []):
                self.fail(f"{where}: service {n}", "the region loader is not in the profile demo")

    @staticmethod
    def script_of(svc):
        parts = []
        for key in ("entrypoint", "command"):
            v = svc.get(key)
            parts += v if isinstance(v, list) else ([v] if v else [])
        return "\n".join(map(str, parts))

    def compose_command(self, where, svc, image):
        """The Signpost binaries a compose service runs and the flags it gives them."""
        entrypoint = svc.get("entrypoint")
        command = svc.get("command")
        as_list = lambda v: v if isinstance(v, list) else (shlex.split(v) if v else [])
        if entrypoint is None:
            stage = self.images.get(image)
            entry = stage["entrypoint"] if stage else []
            argv = list(entry or []) + as_list(command)
        else:
            argv = as_list(entrypoint) + as_list(command)
        return self.binaries_and_flags(where, argv)

    def binaries_and_flags(self, where, argv):
        """From an argv, or from shell scripts in it: the Signpost binaries and their flags."""
        if not argv:
            return [], set()
        first = os.path.basename(str(argv[0]))
        if first in BINARIES:
            return [first], {a.split("=", 1)[0] for a in argv[1:] if str(a).startswith("--")}
        if first in ("sh", "bash") and len(argv) > 1:
            script = str(argv[-1]).replace("$$", "$")
            found, flags = [], set()
            for line in re.sub(r"\\\n", " ", script).splitlines():
                try:
                    tokens = shlex.split(line, comments=True)
                except ValueError as e:
                    self.fail(where, f"cannot read the line {line!r}: {e}")
                    continue
                for i, t in enumerate(tokens):
                    if os.path.basename(t) in BINARIES:
                        found.append(os.path.basename(t))
                        for a in tokens[i + 1:]:
                            if a in ("&&", "||", ";", "|", "}", ")"):
                                break
                            if a.startswith("--"):
                                flags.add(a.split("=", 1)[0])
            return found, flags
        return [], set()

    def check_dependency(self, where, services, dep, cond):
        condition = cond.get("condition") if isinstance(cond, dict) else None
        if dep not in services:
            self.fail(where, f"depends on {dep}, which is not a service")
            return
        if condition == "service_healthy" and not services[dep].get("healthcheck"):
            self.fail(where, f"waits for {dep} to be healthy, but {dep} has no healthcheck")
        elif condition == "service_completed_successfully" and \
                services[dep].get("restart", "no") not in ("no", None):
            self.fail(where, f"waits for {dep} to complete, but {dep} restarts "
                      f"({services[dep].get('restart')})")
        elif condition not in ("service_healthy", "service_completed_successfully"):
            self.fail(where, f"depends on {dep} with condition {condition!r}: use "
                      "service_healthy or service_completed_successfully")

    def depends_on_topics(self, services, name, seen=None):
        seen = seen or set()
        deps = services[name].get("depends_on") or {}
        for dep, cond in deps.items() if isinstance(deps, dict) else []:
            if dep in seen or dep not in services:
                continue
            seen.add(dep)
            if "--create" in self.script_of(services[dep]) and isinstance(cond, dict) and \
                    cond.get("condition") == "service_completed_successfully":
                return True
            if self.depends_on_topics(services, dep, seen):
                return True
        return False

    def check_compose_healthcheck(self, where, svc, binary, metrics):
        test = (svc.get("healthcheck") or {}).get("test")
        if not test:
            self.fail(where, "no healthcheck")
            return
        text = " ".join(map(str, test)) if isinstance(test, list) else str(test)
        urls = re.findall(r"https://[^/\s:]+:(\d+)(/[^\s\"']*)", text)
        if not urls:
            self.fail(where, f"the healthcheck requests no https://HOST:PORT/PATH (the services "
                             f"serve TLS): {text}")
        for port, path in urls:
            if int(port) != metrics:
                self.fail(where, f"the healthcheck uses port {port}, the metrics port is {metrics}")
            if path not in self.paths[binary]:
                self.fail(where, f"the healthcheck requests {path}, which {binary} does not "
                          f"serve ({', '.join(sorted(self.paths[binary]))})")
        if "signpost-http-probe" in text and not os.path.exists(
                self.path("deploy", "signpost-http-probe")):
            self.fail(where, "the healthcheck runs signpost-http-probe, deploy/ has none")

    def check_compose_infrastructure(self, where, services, env):
        if "SIGNPOST_KAFKA_BOOTSTRAP" in env:
            advertised = set()
            for s in services.values():
                listeners = (s.get("environment") or {}).get("KAFKA_ADVERTISED_LISTENERS", "")
                advertised |= {l.split("://", 1)[-1] for l in str(listeners).split(",") if l}
            for address in str(env["SIGNPOST_KAFKA_BOOTSTRAP"]).split(","):
                if address not in advertised:
                    self.fail(where, f"SIGNPOST_KAFKA_BOOTSTRAP {address} is not an advertised "
                              f"listener of the broker ({', '.join(sorted(advertised))})")
        if "SIGNPOST_REDIS" in env:
            host, _ = self.port_of(env["SIGNPOST_REDIS"])
            if host not in services:
                self.fail(where, f"SIGNPOST_REDIS {env['SIGNPOST_REDIS']} names no service")

    # --- Redis with a replica and Sentinel (compose and Kubernetes alike) ----------------------

    @staticmethod
    def sentinel_monitors(script):
        """From a sentinel's start script: {master name: monitored host} and its port."""
        monitors = {name: Checker.first_start_host(host, script) for name, host in
                    re.findall(r"sentinel monitor (\S+) (\S+) \d+ \d+", script)}
        port = re.search(r"^\s*port (\d+)", script, re.M)
        return monitors, int(port.group(1)) if port else 26379

    @staticmethod
    def first_start_host(host, script):
        """A host as a start script names it; for a shell variable ($primary, $$primary in
        compose), the literal it is given for the first start, or None without one (a server
        that becomes a replica only after a failover)."""
        if not host.startswith("$"):
            return host
        literal = re.findall(rf"\b{re.escape(host.lstrip('$'))}=([\w.-]+)", script)
        return literal[-1] if literal else None

    def check_redis_process(self, where, script, probes):
        """A Redis server's or sentinel's start script and its probes (each a command line).

        A sentinel requires the password (requirepass): one that does not takes SENTINEL
        REMOVE/MONITOR/SET from anyone who reaches it, who can then name a server of their own as
        the primary and be sent the services' password and every write. The process runs with
        umask 077, as Redis and Sentinel rewrite their config files (the password in them) with
        the process's umask. Every redis-cli (a sentinel asked for the primary, a probe) gives
        the password, without which a server or a sentinel answers NOAUTH."""
        if "--sentinel" in script and "requirepass" not in script:
            self.fail(where, "the sentinel requires no password (requirepass): anyone who reaches "
                      "it could name another primary and be sent the services' password")
        if not re.search(r"umask 0?077[\s\S]*exec (docker-entrypoint\.sh )?redis-server", script):
            self.fail(where, "redis-server does not run with umask 077: its config rewrites (the "
                      "password in them) would be readable by others")
        exported = re.search(r"export REDISCLI_AUTH", script) is not None
        for line in [l for l in script.splitlines() if "redis-cli" in l] + list(probes):
            if "redis-cli" in line and "REDISCLI_AUTH" not in line and not exported:
                self.fail(where, f"redis-cli without the password (REDISCLI_AUTH): {line.strip()}")

    def check_redis_settings(self, where, env, sentinels, replicas_of, password_mounted):
        """The Redis settings of a service that uses Redis against the Redis declared beside it.

        sentinels: {(host, port): (its where, {master name: monitored host})};
        replicas_of: {primary host: [replica where]}; password_mounted: path -> bool."""
        addresses = [a for a in str(env.get("SIGNPOST_REDIS_SENTINELS") or "").split(",") if a]
        if not addresses:
            self.fail(where, "no SIGNPOST_REDIS_SENTINELS: Redis runs with a replica and Sentinel")
            return
        if len(addresses) < 3:
            self.fail(where, f"SIGNPOST_REDIS_SENTINELS names {len(addresses)} sentinel(s): a "
                      "quorum of two needs three")
        name = env.get("SIGNPOST_REDIS_MASTER_NAME") or "signpost"
        primaries = set()
        for address in addresses:
            host, port = self.port_of(address)
            found = sentinels.get((host, port))
            if found is None:
                self.fail(where, f"SIGNPOST_REDIS_SENTINELS names {address}, which is no sentinel "
                          f"declared here ({', '.join(f'{h}:{p}' for h, p in sorted(sentinels))})")
                continue
            sentinel_where, monitors = found
            if name not in monitors:
                self.fail(where, f"master name {name!r}, but the sentinel {address} "
                          f"({sentinel_where}) monitors {sorted(monitors)}")
            else:
                primaries.add(monitors[name])
        if len(primaries) > 1:
            self.fail(where, f"the sentinels monitor different primaries as {name!r}: "
                      f"{sorted(primaries)}")
        for primary in primaries:
            if not replicas_of.get(primary.split(".")[0]):
                self.fail(where, f"the primary {primary} has no replica declared (replicaof)")
        acked = env.get("SIGNPOST_REDIS_MIN_REPLICAS_ACKED")
        if acked is None or not str(acked).isdigit() or int(acked) < 1:
            self.fail(where, f"SIGNPOST_REDIS_MIN_REPLICAS_ACKED={acked}: with a replica, a change "
                      "is acknowledged once it is on it (1)")
        elif primaries and int(acked) > min(len(replicas_of.get(p.split(".")[0], []))
                                            for p in primaries):
            self.fail(where, f"SIGNPOST_REDIS_MIN_REPLICAS_ACKED={acked}, more than the replicas "
                      "declared: every change would time out")
        sentinel_password = env.get("SIGNPOST_REDIS_SENTINEL_PASSWORD_FILE")
        if not sentinel_password:
            self.fail(where, "no SIGNPOST_REDIS_SENTINEL_PASSWORD_FILE: the sentinels require a "
                      "password")
        elif not password_mounted(sentinel_password):
            self.fail(where, f"SIGNPOST_REDIS_SENTINEL_PASSWORD_FILE={sentinel_password} is not in "
                      "a secret mounted into it")
        password = env.get("SIGNPOST_REDIS_PASSWORD_FILE")
        if not password:
            self.fail(where, "no SIGNPOST_REDIS_PASSWORD_FILE: Redis requires a password")
        elif not password_mounted(password):
            self.fail(where, f"SIGNPOST_REDIS_PASSWORD_FILE={password} is not in a secret mounted "
                      "into it")

    def check_compose_redis(self, where, compose, services):
        sentinels, replicas_of, secrets_of_redis = {}, {}, set()
        for n, svc in services.items():
            script = self.script_of(svc)
            if "redis" not in str(svc.get("image", "")):
                continue
            secrets_of_redis |= {str(x) for x in svc.get("secrets") or []}
            test = (svc.get("healthcheck") or {}).get("test") or []
            probe = " ".join(map(str, test if isinstance(test, list) else [test]))
            self.check_redis_process(f"{where}: service {n}", script, [probe] if probe else [])
            if "--sentinel" in script:
                monitors, port = self.sentinel_monitors(script)
                host = svc.get("hostname") or n
                sentinels[(host, port)] = (f"service {n}", monitors)
                if host != n:
                    self.fail(f"{where}: service {n}", f"hostname {host} is not its service name")
                for pw in re.findall(r"sentinel auth-pass \S+ (\S+)", script):
                    if "/run/secrets/" not in script:
                        self.fail(f"{where}: service {n}", "the sentinel's auth-pass is not read "
                                  "from a secret")
            for primary in re.findall(r"replicaof (\S+) \d+", script):
                primary = self.first_start_host(primary, script)
                if primary and primary != n:
                    replicas_of.setdefault(primary, []).append(n)
            if "requirepass" not in script and "--sentinel" not in script:
                self.fail(f"{where}: service {n}", "Redis requires no password (requirepass)")
        declared = compose.get("secrets") or {}
        for n, svc in services.items():
            env = svc.get("environment") or {}
            binaries, _ = self.compose_command(f"{where}: service {n}", svc,
                                               self.image_name(where, svc.get("image", "")))
            if not any(k.startswith("SIGNPOST_REDIS") for k in env) or not binaries:
                continue
            mine = {str(x) for x in svc.get("secrets") or []}

            def mounted(path, mine=mine):
                secret = path[len("/run/secrets/"):] if path.startswith("/run/secrets/") else None
                return secret in mine and secret in declared and secret in secrets_of_redis
            if "SIGNPOST_REDIS_PASSWORD_FILE" in env or "SIGNPOST_REDIS_SENTINELS" in env:
                self.check_redis_settings(f"{where}: service {n}", env, sentinels, replicas_of,
                                          mounted)

    def check_kubernetes_redis(self, objects, configmaps):
        statefulsets = [(f, d) for f, d in objects if d["kind"] == "StatefulSet"]
        sentinels, replicas_of, redis_secrets = {}, {}, set()
        for f, d in statefulsets:
            pod = self.pod_spec(d)
            script = self.pod_script(d)
            svc = d["spec"].get("serviceName")
            secrets = {v["secret"]["secretName"] for v in pod.get("volumes") or [] if "secret" in v}
            redis_secrets |= secrets
            pods = [f"{d['metadata']['name']}-{i}" for i in range(d["spec"].get("replicas", 1))]
            if "redis-server" in script:
                probes = []
                for c in pod.get("containers", []):
                    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
                        command = ((c.get(kind) or {}).get("exec") or {}).get("command")
                        if command:
                            probes.append(" ".join(map(str, command)))
                self.check_redis_process(f"{f}: StatefulSet {d['metadata']['name']}", script,
                                         probes)
            if "--sentinel" in script:
                monitors, port = self.sentinel_monitors(script)
                for p in pods:
                    sentinels[(f"{p}.{svc}", port)] = (f"{f}: StatefulSet {d['metadata']['name']}",
                                                       monitors)
            elif "redis-server" in script:
                if "requirepass" not in script:
                    self.fail(f, f"StatefulSet {d['metadata']['name']}: Redis requires no password")
                if "--appendonly yes" not in script:
                    self.fail(f, f"StatefulSet {d['metadata']['name']}: Redis runs without AOF")
                if len(pods) > 1 and "replicaof" in script:
                    replicas_of[pods[0]] = pods[1:]  # pod 0 first, the others its replicas
        if not sentinels:
            self.fail("deploy/kubernetes", "no StatefulSet runs Redis Sentinel (--sentinel)")
        for f, d in objects:
            if d["kind"] != "Deployment":
                continue
            for c in self.pod_spec(d).get("containers", []):
                env = {}
                for ref in c.get("envFrom") or []:
                    env.update(configmaps.get((ref.get("configMapRef") or {}).get("name"), {}))
                env.update(self.container_env({"spec": {"template": {"spec": {"containers": [c]}}}}))
                if "SIGNPOST_REDIS_PASSWORD_FILE" not in env:
                    continue  # a service that keeps nothing in Redis (the monitor)
                volumes = {v["name"]: v for v in self.pod_spec(d).get("volumes") or []}

                def mounted(path, c=c, volumes=volumes):
                    for m in c.get("volumeMounts") or []:
                        secret = (volumes.get(m["name"]) or {}).get("secret", {}).get("secretName")
                        if secret and path.startswith(m["mountPath"].rstrip("/") + "/") and \
                                secret in redis_secrets:
                            return True
                    return False
                self.check_redis_settings(f"{f}: Deployment {d['metadata']['name']}", env,
                                          sentinels, replicas_of, mounted)

    # --- Kubernetes ---------------------------------------------------------------------------

    def check_kubernetes(self, docs_by_file):
        objects = []  # (file, doc)
        for f, docs in docs_by_file.items():
            if f.startswith("deploy/kubernetes/"):
                objects += [(f, d) for d in docs if isinstance(d, dict) and "kind" in d]
        if not objects:
            self.fail("deploy/kubernetes", "no Kubernetes objects")
            return
        kind = lambda k: [(f, d) for f, d in objects if d["kind"] == k]
        configmaps = {d["metadata"]["name"]: d.get("data") or {} for _, d in kind("ConfigMap")}
        secrets = {d["metadata"]["name"]: {**(d.get("stringData") or {}), **(d.get("data") or {})}
                   for _, d in kind("Secret")}
        namespaces = {d["metadata"]["name"] for _, d in kind("Namespace")}
        if len(namespaces) != 1:
            self.fail("deploy/kubernetes", f"expected one Namespace, found {sorted(namespaces)}")
        for f, d in objects:
            if d["kind"] in ("Namespace", "Kustomization"):
                continue
            ns = (d.get("metadata") or {}).get("namespace")
            if ns not in namespaces:
                self.fail(f, f"{d['kind']} {(d.get('metadata') or {}).get('name')} is in "
                          f"namespace {ns!r}, not {sorted(namespaces)}")
        deployments = kind("Deployment")
        services = kind("Service")
        pdbs = kind("PodDisruptionBudget")
        seen = {}
        for f, d in deployments:
            found = self.check_deployment(f, d, configmaps, secrets, services, pdbs)
            if found:
                binary, grpc, metrics = found
                if binary in seen:
                    self.fail(f, f"{binary} is deployed twice")
                seen[binary] = (f, d, grpc, metrics)
        for binary in SERVICES:
            if binary not in seen:
                self.fail("deploy/kubernetes", f"no Deployment runs {binary}")
        # Follow-up reaches matching through matching's Service, on its gRPC port.
        if "signpost-matching" in seen and "signpost-followup" in seen:
            m_file, m_dep, m_grpc, _ = seen["signpost-matching"]
            f_file, f_dep, _, _ = seen["signpost-followup"]
            addr = self.container_env(f_dep).get("SIGNPOST_DIRECTORY_ADDR")
            host, port = self.port_of(addr)
            reached = [s for _, s in services if self.selects(s, m_dep) and host and
                       s["metadata"]["name"] == host.split(".")[0] and
                       any(p.get("port") == port and self.target_port(m_dep, p) == m_grpc
                           for p in s["spec"].get("ports", []))]
            if not reached:
                self.fail(f_file, f"SIGNPOST_DIRECTORY_ADDR={addr} is not matching's Service and "
                          f"gRPC port ({m_grpc})")
        jobs = [(f, d) for f, d in kind("Job")]
        creators = [(f, d) for f, d in jobs if "--create" in self.pod_script(d)]
        if len(creators) != 1:
            self.fail("deploy/kubernetes", f"expected one Job creating the topics, found "
                      f"{[f for f, _ in creators]}")
        for f, d in creators:
            self.check_topic_script(f"{f}: Job {d['metadata']['name']}", self.pod_script(d))
            for c in self.pod_spec(d).get("containers", []):
                for e in c.get("env") or []:
                    if e["name"].startswith("SIGNPOST_"):
                        self.check_options(f, SERVICES, {e["name"]}, set())
        self.check_kubernetes_redis(objects, configmaps)
        self.check_kustomization(docs_by_file, objects)

    @staticmethod
    def pod_spec(d):
        return d.get("spec", {}).get("template", {}).get("spec", {})

    def pod_script(self, d):
        parts = []
        for c in self.pod_spec(d).get("containers", []):
            parts += [str(x) for x in (c.get("command") or []) + (c.get("args") or [])]
        return "\n".join(parts)

    def container_env(self, d):
        env = {}
        for c in self.pod_spec(d).get("containers", []):
            for e in c.get("env") or []:
                env[e["name"]] = e.get("value")
        return env

    @staticmethod
    def selects(selector_owner, deployment):
        spec = selector_owner.get("spec", {})
        selector = spec.get("selector", {})
        selector = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
        labels = deployment["spec"]["template"]["metadata"].get("labels", {})
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    def target_port(self, deployment, service_port):
        """The container port number a Service port reaches."""
        target = service_port.get("targetPort", service_port.get("port"))
        for c in self.pod_spec(deployment).get("containers", []):
            for p in c.get("ports") or []:
                if target in (p.get("name"), p.get("containerPort")):
                    return p.get("containerPort")
        return None

    def check_deployment(self, f, d, configmaps, secrets, services, pdbs):
        name = d["metadata"]["name"]
        w = f"{f}: Deployment {name}"
        pod = self.pod_spec(d)
        containers = pod.get("containers") or []
        binary, grpc, metrics = None, None, None
        for c in containers:
            cw = f"{w}, container {c.get('name')}"
            image = self.image_name(cw, c.get("image", ""))
            stage = self.images.get(image)
            argv = list(c.get("command") or (stage["entrypoint"] if stage else []) or []) + \
                list(c.get("args") or [])
            binaries, flags = self.binaries_and_flags(cw, argv)
            envs = {e["name"] for e in c.get("env") or []}
            for ref in c.get("envFrom") or []:
                cm = (ref.get("configMapRef") or {}).get("name")
                if cm is not None:
                    if cm not in configmaps:
                        self.fail(cw, f"envFrom names the ConfigMap {cm}, which is not defined")
                    envs |= set(configmaps.get(cm, {}))
                if ref.get("secretRef"):
                    sec = ref["secretRef"]["name"]
                    envs |= set(secrets.get(sec, {}))
            for e in c.get("env") or []:
                ref = (e.get("valueFrom") or {}).get("secretKeyRef")
                if ref and ref.get("key") not in secrets.get(ref.get("name"), {}):
                    self.fail(cw, f"{e['name']} comes from key {ref.get('key')} of Secret "
                              f"{ref.get('name')}, which deploy/kubernetes does not define")
                ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
                if ref and ref.get("key") not in configmaps.get(ref.get("name"), {}):
                    self.fail(cw, f"{e['name']} comes from key {ref.get('key')} of ConfigMap "
                              f"{ref.get('name')}, which is not defined")
            if not binaries:
                self.fail(cw, f"runs no Signpost binary (image {c.get('image')})")
                continue
            self.check_options(cw, binaries, envs, flags)
            services_here = [b for b in binaries if b in SERVICES]
            if not services_here:
                continue
            binary = services_here[0]
            env = {e["name"]: e.get("value") for e in c.get("env") or []}
            grpc, metrics = self.listen_ports(cw, env)
            self.check_image_defaults(cw, image, grpc, metrics)
            declared = {p.get("containerPort") for p in c.get("ports") or []}
            if declared != {grpc, metrics}:
                self.fail(cw, f"containerPorts {sorted(declared)}, the service listens on "
                          f"{[grpc, metrics]}")
            instance = next((e for e in c.get("env") or [] if e["name"] == "SIGNPOST_INSTANCE_ID"),
                            None)
            field = ((instance or {}).get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
            if field != "metadata.name":
                self.fail(cw, "SIGNPOST_INSTANCE_ID does not come from the pod name "
                          "(valueFrom.fieldRef.fieldPath: metadata.name)")
            for probe, path in (("readinessProbe", "/readyz"), ("livenessProbe", "/healthz"),
                                ("startupProbe", None)):
                spec = c.get(probe)
                if spec is None:
                    if path:
                        self.fail(cw, f"no {probe}")
                    continue
                get = spec.get("httpGet")
                if get and get.get("scheme") != "HTTPS":
                    self.fail(cw, f"{probe} is not over HTTPS (scheme: HTTPS): the services serve TLS")
                if not get:
                    self.fail(cw, f"{probe} is not an httpGet on the metrics port")
                    continue
                port = self.target_port(d, {"targetPort": get.get("port")})
                if port != metrics:
                    self.fail(cw, f"{probe} uses port {get.get('port')} ({port}), the metrics port "
                              f"is {metrics}")
                if get.get("path") not in self.paths[binary]:
                    self.fail(cw, f"{probe} requests {get.get('path')}, which {binary} does not "
                              "serve")
                elif path and get.get("path") != path:
                    self.fail(cw, f"{probe} requests {get.get('path')}, expected {path}")
            res = c.get("resources") or {}
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in (res.get(part) or {}):
                        self.fail(cw, f"no resources.{part}.{r}")
            psc, csc = pod.get("securityContext") or {}, c.get("securityContext") or {}
            if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot"))):
                self.fail(cw, "does not set runAsNonRoot: true")
            uid = csc.get("runAsUser", psc.get("runAsUser"))
            if uid is not None and int(uid) == 0:
                self.fail(cw, "runs as uid 0")
            if csc.get("allowPrivilegeEscalation", True):
                self.fail(cw, "does not set allowPrivilegeEscalation: false")
            annotations = d["spec"]["template"]["metadata"].get("annotations") or {}
            if "prometheus.io/port" in annotations and \
                    int(annotations["prometheus.io/port"]) != metrics:
                self.fail(w, f"prometheus.io/port is {annotations['prometheus.io/port']}, the "
                          f"metrics port is {metrics}")
            settings = {e["name"]: e.get("value") for e in c.get("env") or []}
            argv_rest = [str(a) for a in c.get("args") or []]
            for i, a in enumerate(argv_rest):
                if a.startswith("--consumers"):
                    settings["--consumers"] = a.split("=", 1)[1] if "=" in a else \
                        (argv_rest[i + 1] if i + 1 < len(argv_rest) else None)
            self.check_replicas(w, d, binary, settings)
        if binary is None:
            return None
        # Service and PodDisruptionBudget.
        mine = [(sf, s) for sf, s in services if self.selects(s, d)]
        if not mine:
            self.fail(w, "no Service selects its pods")
        exposed = set()
        for sf, s in mine:
            for p in s["spec"].get("ports", []):
                target = self.target_port(d, p)
                if target is None:
                    self.fail(sf, f"Service {s['metadata']['name']} port {p.get('name')} targets "
                              f"{p.get('targetPort')}, which is no container port of {name}")
                elif p.get("port") != target:
                    self.fail(sf, f"Service {s['metadata']['name']} port {p.get('port')} reaches "
                              f"container port {target}: use the same number")
                exposed.add(target)
        declared = {p.get("containerPort") for c in containers for p in c.get("ports") or []}
        if mine and exposed != declared:
            self.fail(w, f"its Service exposes {sorted(x for x in exposed if x)}, the container "
                      f"ports are {sorted(declared)}")
        budgets = [(pf, p) for pf, p in pdbs if self.selects(p, d)]
        if len(budgets) != 1:
            self.fail(w, f"expected one PodDisruptionBudget, found {len(budgets)}")
        for pf, p in budgets:
            replicas = d["spec"].get("replicas", 1)
            min_available = p["spec"].get("minAvailable")
            if isinstance(min_available, int) and min_available >= replicas:
                self.fail(pf, f"PodDisruptionBudget {p['metadata']['name']}: minAvailable "
                          f"{min_available} with {replicas} replica(s) blocks every node drain")
        return binary, grpc, metrics

    def check_replicas(self, where, d, binary, args):
        replicas = d["spec"].get("replicas", 1)
        if binary == "signpost-monitor":
            if replicas != 1:
                self.fail(where, f"{replicas} replicas: the monitor reads every topic without a "
                          "consumer group; run one")
            return
        if binary == "signpost-intake":
            return  # stateless: gRPC scales beyond its consumers
        per_process = args.get("--consumers") or args.get("SIGNPOST_CONSUMERS")
        per_process = int(per_process) if per_process else self.default_consumers
        for group, scaled in sorted(self.service_groups.get(binary, {}).items()):
            members = replicas * (per_process if scaled else 1)
            usable = max(self.topics[t]["partitions"] for t in self.groups[group])
            if members > usable:
                self.fail(where, f"{replicas} replicas run {members} members of the consumer "
                          f"group {group}, whose topics have at most {usable} partitions: the "
                          "rest would idle")

    def check_kustomization(self, docs_by_file, objects):
        where = "deploy/kubernetes/kustomization.yaml"
        k = (docs_by_file.get(where) or [None])[0]
        if not isinstance(k, dict):
            return
        listed = set(k.get("resources") or [])
        for r in sorted(listed):
            if not os.path.exists(self.path("deploy", "kubernetes", r)):
                self.fail(where, f"lists {r}, which does not exist")
        for f in sorted({f for f, _ in objects}):
            base = f[len("deploy/kubernetes/"):]
            kinds = {d["kind"] for ff, d in objects if ff == f}
            example = base.endswith(".example.yaml")  # applied by hand, with real values
            if base not in listed and base != "kustomization.yaml" and kinds != {"Secret"} \
                    and not example:
                self.fail(where, f"does not list {base}")
            if base in listed and "Secret" in kinds:
                self.fail(where, f"lists {base}: applying it would overwrite the real Secret")
        for image in k.get("images") or []:
            name = image.get("name", "")
            if name.startswith("signpost-"):
                self.image_name(where, f"{name}:{image.get('newTag', '')}")

    # --- README -------------------------------------------------------------------------------

    def check_readme(self):
        where = "deploy/README.md"
        try:
            text = self.read("deploy", "README.md")
        except OSError:
            self.fail(where, "missing")
            return
        for group in sorted(self.groups):
            if f"`{group}`" not in text:
                self.fail(where, f"does not name the consumer group {group}")
        # The groups table: each row's topics and their partitions as the code and topics.tsv say.
        table = re.search(r"^\| consumer group \|.*?\n\n", text, re.M | re.S)
        if not table:
            self.fail(where, "no consumer group table (| consumer group | service | topics ...)")
        rows = re.findall(r"^\| `(signpost-[\w-]+)`[^|]*\|[^|]*\|([^\n]*)\|$",
                          table.group(0) if table else "", re.M)
        if table and sorted(g for g, _ in rows) != sorted(self.groups):
            self.fail(where, f"the consumer group table lists {sorted(g for g, _ in rows)}; "
                      f"common/kafka/consumer_groups.cc defines {sorted(self.groups)}")
        for group, cells in rows:
            if group not in self.groups:
                self.fail(where, f"the consumer group table names {group}, which "
                          "common/kafka/consumer_groups.cc does not define")
                continue
            listed = re.findall(r"`(signpost\.[\w.]+)` \((\d+)\)", cells)
            if sorted(t for t, _ in listed) != sorted(self.groups[group]):
                self.fail(where, f"the consumer group table gives {group} the topics "
                          f"{sorted(t for t, _ in listed)}; common/kafka/consumer_groups.cc says "
                          f"{sorted(self.groups[group])}")
            for topic, partitions in listed:
                if topic in self.topics and int(partitions) != self.topics[topic]["partitions"]:
                    self.fail(where, f"the consumer group table gives {topic} {partitions} "
                              f"partitions, topics.tsv {self.topics[topic]['partitions']}")

    def check_topics_table(self):
        """README.md's topics table names the topics of topics.tsv, in its order."""
        where = "README.md"
        text = self.read("README.md")
        m = re.search(r"^#+ Topics\n(.*?)(?=^#)", text, re.M | re.S)
        if not m:
            self.fail(where, "no Topics section")
            return
        listed = re.findall(r"^\| `(signpost\.[^`]+)` \|", m.group(1), re.M)
        expected = list(self.topics)
        if listed != expected:
            for name in [t for t in expected if t not in listed]:
                self.fail(where, f"the Topics table does not list {name} of topics.tsv; add the "
                          f"row\n      | `{name}` | {self.topics[name]['key']} | (what it carries) |")
            for name in [t for t in listed if t not in expected]:
                self.fail(where, f"the Topics table lists {name}, which is not in topics.tsv")
            if sorted(listed) == sorted(expected):
                self.fail(where, f"the Topics table's order is not topics.tsv's: {listed}")

    # --- all of it ----------------------------------------------------------------------------

    def run(self):
        self.load_version()
        self.load_topics()
        self.load_groups()
        self.load_paths()
        self.parse_dockerfile()
        docs_by_file = {}
        for root, _, files in os.walk(self.path("deploy")):
            for name in sorted(files):
                if name.endswith((".yaml", ".yml")):
                    full = os.path.join(root, name)
                    try:
                        with open(full, encoding="utf-8") as fh:
                            docs_by_file[self.rel(full)] = [d for d in yaml.safe_load_all(fh)
                                                            if d is not None]
                    except yaml.YAMLError as e:
                        self.fail(self.rel(full), f"not valid YAML: {e}")
        if "deploy/compose.yaml" not in docs_by_file:
            self.fail("deploy/compose.yaml", "missing")
        else:
            self.check_compose(docs_by_file["deploy/compose.yaml"])
        self.check_kubernetes(docs_by_file)
        self.check_readme()
        self.check_topics_table()
        for note in self.notes:
            print(f"note: {note}")
        if self.problems:
            print(f"deploy_files_test: {len(self.problems)} problem(s) in the deployment files:")
            for p in self.problems:
                print(f"  - {p}")
            return 1
        files = sorted(docs_by_file) + ["deploy/Dockerfile"]
        print(f"deploy_files_test: OK ({len(files)} files: {', '.join(files)})")
        return 0


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: deploy_files_test.py SOURCE_DIR BUILD_DIR")
    return Checker(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])).run()


if __name__ == "__main__":
    sys.exit(main())
