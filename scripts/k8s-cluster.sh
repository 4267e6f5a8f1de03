#!/usr/bin/env bash
# k8s-cluster.sh — the real single-node Kubernetes 1.20.2 cluster Steward's Kubernetes tests run against
# (tests/Steward.Kubernetes.Tests, docs/kubernetes.md). Offline, without systemd and without Docker: etcd 3.4 +
# kube-apiserver + kube-controller-manager + kube-scheduler + kubelet + kube-proxy (iptables) + containerd 1.6/runc,
# everything from Debian packages or built from Debian's kubernetes source package. Images (pause, PostgreSQL 15 and
# Redis 7 in one Debian rootfs) are built locally with debootstrap. Adapted from the verified recipe the project was
# given (../shared/k8s/local-cluster.sh); everything it builds is cached, so only the first `up` takes minutes.
#
#   k8s-cluster.sh up      install/build what is missing, start what is not running, wait until the node is Ready
#                          (idempotent: with everything running it only checks; one invocation at a time, flock)
#   k8s-cluster.sh ready   exit 0 when the apiserver answers and the node is Ready, 1 otherwise (changes nothing)
#   k8s-cluster.sh down    stop every process it started (by PID), including pod containers
#   k8s-cluster.sh env     print `export KUBECONFIG=...` (eval "$(k8s-cluster.sh env)")
#   k8s-cluster.sh status  show which daemons run
#   k8s-cluster.sh reset   down + delete cluster state (etcd, certs, volumes); keeps the build cache
#   k8s-cluster.sh build   only install packages, build binaries and image archives (warm the cache)
#
# Must run as root. Ports: 6443 (apiserver), 10248-10259 (kubelet, controller-manager, scheduler, kube-proxy),
# 12379-12380 (etcd), NodePorts 30000-32767. Environment overrides (defaults in brackets):
#   STEWARD_K8S_CACHE [/var/cache/steward-k8s]  binaries, source, rootfs, image tarballs (survives reset)
#   STEWARD_K8S_STATE [/var/lib/steward-k8s]    cluster state: pki, etcd, containerd, kubelet, logs
#   STEWARD_K8S_RUN   [/run/steward-k8s]        pid files, sockets
set -euo pipefail

K8S_VERSION=v1.20.2
K8S_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
CACHE=${STEWARD_K8S_CACHE:-/var/cache/steward-k8s}
STATE=${STEWARD_K8S_STATE:-/var/lib/steward-k8s}
RUN=${STEWARD_K8S_RUN:-/run/steward-k8s}
BIN=$CACHE/bin
PKI=$STATE/pki
LOGS=$STATE/logs
SOCK=$RUN/containerd.sock
KUBECONFIG_ADMIN=$STATE/admin.kubeconfig
ETCD_CLIENT_PORT=12379
ETCD_PEER_PORT=12380
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
POD_CIDR=10.244.0.0/24
CLUSTER_CIDR=10.244.0.0/16
PAUSE_IMAGE=localhost/steward/pause:3.4
PG_IMAGE=localhost/steward/postgres:15
REDIS_IMAGE=localhost/steward/redis:7
IMAGE_REV=3   # bump to force image rebuild
NODE_NAME=$(hostname | tr '[:upper:]' '[:lower:]')
K8S_CMDS="kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl"
# start order; `down` stops in reverse
DAEMONS="etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
T0=$(date +%s)
step_start() { STEP_NAME=$1; STEP_T=$(date +%s); log "-> $1"; }
step_end() { log "<- $STEP_NAME: $(( $(date +%s) - STEP_T ))s"; }
kc() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
ctr_() { ctr --address "$SOCK" -n k8s.io "$@"; }

node_ip() { ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -1; }

# ---------------------------------------------------------------- packages
ensure_packages() {
  local want="etcd-server containerd runc containernetworking-plugins iptables conntrack socat debootstrap
    golang-go golang-github-modern-go-reflect2-dev dpkg-dev openssl curl iproute2 ca-certificates"
  local missing=() p
  for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  step_start "apt-get install ${missing[*]}"
  # no systemd: keep the Debian maintainer scripts from trying to start etcd/containerd
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y --no-install-recommends "${missing[@]}" >&2
  step_end
}

ensure_deb_src() {
  apt-cache showsrc kubernetes 2>/dev/null | grep -q '^Package: kubernetes' && return 0
  local suite; suite=$(. /etc/os-release; echo "$VERSION_CODENAME")
  cat > /etc/apt/sources.list.d/steward-k8s-src.sources <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  apt-get update >&2
}

# ---------------------------------------------------------------- kubernetes binaries
ensure_k8s_binaries() {
  local c ok=1
  for c in $K8S_CMDS; do [ -x "$BIN/$c" ] || ok=0; done
  [ "$(cat "$BIN/.version" 2>/dev/null)" = "$K8S_VERSION" ] || ok=0
  [ $ok = 1 ] && return 0
  step_start "build Kubernetes $K8S_VERSION server binaries from Debian source (several minutes)"
  local src=$CACHE/src/k8s
  if [ ! -f "$src/.prepared" ]; then
    ensure_deb_src
    rm -rf "$CACHE/src"; mkdir -p "$CACHE/src"
    (cd "$CACHE/src" && apt-get source --download-only kubernetes >&2 && dpkg-source -x ./kubernetes_*.dsc k8s >&2)
    # Go 1.19 breaks modern-go/reflect2 1.0.1 (vendored); Debian's 1.0.2 works
    rm -rf "$src/vendor/github.com/modern-go/reflect2"
    cp -a /usr/share/gocode/src/github.com/modern-go/reflect2 "$src/vendor/github.com/modern-go/reflect2"
    rm -f "$src/vendor/github.com/modern-go/reflect2/go.mod"
    mkdir -p "$src/.go/src/k8s.io" && ln -sfn ../../.. "$src/.go/src/k8s.io/kubernetes"
    # The release tarball lacks pkg/generated/openapi/zz_generated.openapi.go (kube-apiserver needs it);
    # `make` would generate it but needs the whole hack/ machinery. Run openapi-gen like
    # Makefile.generated_files does, on the same input directories.
    (cd "$src/.go/src/k8s.io/kubernetes" && export CGO_ENABLED=0 GO111MODULE=off GOFLAGS= GOPATH="$src/.go" GOCACHE="$CACHE/gocache" &&
      go build -o "$src/.go/openapi-gen" ./vendor/k8s.io/kube-openapi/cmd/openapi-gen &&
      dirs=$(find -L pkg cmd plugin vendor/k8s.io -name '*.go' -not -path '*/testdata/*' 2>/dev/null \
             | xargs grep -l '^// *+k8s:' | xargs grep -l '+k8s:openapi-gen=' | xargs -n1 dirname \
             | grep -v -E '^vendor/k8s.io/(code-generator|sample-apiserver)/' | LC_ALL=C sort -u \
             | sed 's#^#k8s.io/kubernetes/#' | paste -sd,) &&
      "$src/.go/openapi-gen" -i "$dirs" -p k8s.io/kubernetes/pkg/generated/openapi -O zz_generated.openapi \
        -h vendor/k8s.io/code-generator/hack/boilerplate.go.txt -r "$src/.go/openapi-violations.report") >&2
    [ -s "$src/pkg/generated/openapi/zz_generated.openapi.go" ] || die "openapi generation failed"
    touch "$src/.prepared"
  fi
  local ld="-s -w" p
  for p in k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version k8s.io/kubernetes/vendor/k8s.io/component-base/version; do
    ld="$ld -X $p.gitVersion=$K8S_VERSION -X $p.gitCommit=$K8S_COMMIT -X $p.gitTreeState=archive"
    ld="$ld -X $p.gitMajor=1 -X $p.gitMinor=20 -X $p.buildDate=2021-01-13T00:00:00Z"
  done
  mkdir -p "$BIN"
  for c in $K8S_CMDS; do
    [ -x "$BIN/$c" ] && [ "$(cat "$BIN/.version" 2>/dev/null)" = "$K8S_VERSION" ] && continue
    local s; s=$(date +%s)
    # Kubernetes 1.20 builds in GOPATH mode (hack/lib/init.sh sets GO111MODULE=off)
    # STEWARD_K8S_BUILD_NICE: scripts/test.sh builds at a lower priority so the other test projects keep the CPU
    (cd "$src/.go/src/k8s.io/kubernetes" && env CGO_ENABLED=0 GO111MODULE=off GOFLAGS= GOPATH="$src/.go" \
       GOCACHE="$CACHE/gocache" nice -n "${STEWARD_K8S_BUILD_NICE:-0}" go build -tags "providerless dockerless selinux notest" -trimpath \
       -ldflags "$ld" -o "$BIN/$c.tmp" "./cmd/$c") >&2
    mv "$BIN/$c.tmp" "$BIN/$c"
    log "   built $c in $(( $(date +%s) - s ))s"
  done
  echo "$K8S_VERSION" > "$BIN/.version"
  rm -rf "$CACHE/gocache"   # ~2 GB; the binaries are what we keep
  step_end
}

# ---------------------------------------------------------------- images
# A hand-made OCI image archive: one uncompressed layer, imported with `ctr images import`.
mk_oci_archive() { # out.tar name layer.tar config-json-fragment
  local out=$1 name=$2 layer=$3 cfg=$4 d; d=$(mktemp -d)
  mkdir -p "$d/blobs/sha256"
  local ldig lsize; ldig=$(sha256sum "$layer" | cut -d' ' -f1); lsize=$(stat -c %s "$layer")
  ln "$layer" "$d/blobs/sha256/$ldig" 2>/dev/null || cp "$layer" "$d/blobs/sha256/$ldig"
  printf '{"architecture":"amd64","os":"linux","created":"2025-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$cfg" "$ldig" > "$d/config.json"
  local cdig csize; cdig=$(sha256sum "$d/config.json" | cut -d' ' -f1); csize=$(stat -c %s "$d/config.json")
  mv "$d/config.json" "$d/blobs/sha256/$cdig"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
    "$cdig" "$csize" "$ldig" "$lsize" > "$d/manifest.json"
  local mdig msize; mdig=$(sha256sum "$d/manifest.json" | cut -d' ' -f1); msize=$(stat -c %s "$d/manifest.json")
  mv "$d/manifest.json" "$d/blobs/sha256/$mdig"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$mdig" "$msize" "$name" "${name##*:}" > "$d/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' > "$d/oci-layout"
  tar -C "$d" -cf "$out.tmp" oci-layout index.json blobs && mv "$out.tmp" "$out"
  rm -rf "$d"
}

build_pause() {
  local d; d=$(mktemp -d)
  cat > "$d/pause.go" <<'EOF'
// pause: the pod sandbox process. Sleeps, reaps zombies, exits on SIGINT/SIGTERM.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	c := make(chan os.Signal, 8)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for s := range c {
		if s != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
				break
			}
		}
	}
}
EOF
  mkdir -p "$d/root"
  (cd "$d" && CGO_ENABLED=0 GO111MODULE=off GOCACHE="$d/cache" go build -ldflags "-s -w" -o root/pause pause.go)
  tar -C "$d/root" --numeric-owner --owner=0 --group=0 -cf "$d/layer.tar" pause
  mk_oci_archive "$CACHE/images/pause.tar" "$PAUSE_IMAGE" "$d/layer.tar" '{"Entrypoint":["/pause"],"WorkingDir":"/"}'
  rm -rf "$d"
}

build_data_images() {
  local rootfs=$CACHE/rootfs/data
  if [ ! -f "$rootfs/.complete" ]; then
    rm -rf "$rootfs"; mkdir -p "$CACHE/rootfs"
    local mirror
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\/*\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
    debootstrap --variant=minbase --include=postgresql-15,postgresql-client-15,redis-server,procps,iproute2 \
      bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >&2
    touch "$rootfs/.complete"
  fi
  # container-ready tweaks (idempotent)
  rm -rf "$rootfs/var/lib/postgresql/15/main" "$rootfs/etc/postgresql/15/main" \
         "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_Packages
  cat > "$rootfs/usr/local/bin/postgres-entrypoint" <<'EOF'
#!/bin/sh
# Minimal subset of the official postgres image's contract: POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB,
# PGDATA, POSTGRES_INITDB_ARGS; extra arguments are passed to postgres (e.g. -c max_connections=50).
set -e
PGBIN=/usr/lib/postgresql/15/bin
: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  # volumes (hostPath PVs are created 0750 root:root) must be traversable by postgres
  parent=$(dirname "$PGDATA")
  [ "$parent" = / ] || chown postgres:postgres "$parent"
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pw=$(mktemp); printf '%s' "${POSTGRES_PASSWORD:-postgres}" > "$pw"
  # shellcheck disable=SC2086
  "$PGBIN/initdb" -D "$PGDATA" -U "${POSTGRES_USER:-postgres}" --pwfile="$pw" --auth-local=trust \
     --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 $POSTGRES_INITDB_ARGS
  rm -f "$pw"
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
  if [ "$db" != postgres ]; then
    echo "CREATE DATABASE \"$db\"" | "$PGBIN/postgres" --single -D "$PGDATA" -j postgres >/dev/null
  fi
fi
exec "$PGBIN/postgres" -D "$PGDATA" -c listen_addresses='*' "$@"
EOF
  chmod 755 "$rootfs/usr/local/bin/postgres-entrypoint"
  local d; d=$(mktemp -d "$CACHE/images/tmp.XXXX")
  tar -C "$rootfs" --numeric-owner --exclude=./.complete --exclude='./proc/*' --exclude='./sys/*' \
      --exclude='./dev/*' --exclude='./usr/share/doc/*' --exclude='./usr/share/man/*' \
      --exclude='./usr/share/locale/*' -cf "$d/layer.tar" .
  local path='"PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'
  mk_oci_archive "$CACHE/images/postgres.tar" "$PG_IMAGE" "$d/layer.tar" \
    "{\"Env\":[$path,\"PGDATA=/var/lib/postgresql/data\",\"LANG=C.UTF-8\"],\"Entrypoint\":[\"/usr/local/bin/postgres-entrypoint\"],\"StopSignal\":\"SIGINT\",\"ExposedPorts\":{\"5432/tcp\":{}},\"WorkingDir\":\"/\"}"
  mk_oci_archive "$CACHE/images/redis.tar" "$REDIS_IMAGE" "$d/layer.tar" \
    "{\"Env\":[$path],\"Entrypoint\":[\"redis-server\"],\"Cmd\":[\"--bind\",\"0.0.0.0\",\"--protected-mode\",\"no\",\"--dir\",\"/data\"],\"ExposedPorts\":{\"6379/tcp\":{}},\"WorkingDir\":\"/data\"}"
  mkdir -p "$rootfs/data"
  rm -rf "$d"
}

ensure_image_archives() {
  mkdir -p "$CACHE/images"
  [ "$(cat "$CACHE/images/.rev" 2>/dev/null)" = "$IMAGE_REV" ] && [ -f "$CACHE/images/pause.tar" ] \
    && [ -f "$CACHE/images/postgres.tar" ] && [ -f "$CACHE/images/redis.tar" ] && return 0
  step_start "build images (pause, postgres 15, redis 7) with debootstrap"
  mkdir -p "$CACHE/rootfs/data"
  build_pause
  build_data_images
  echo "$IMAGE_REV" > "$CACHE/images/.rev"
  step_end
}

import_images() {
  local want have n
  have=$(ctr_ images ls -q 2>/dev/null || true)
  for n in pause postgres redis; do
    case $n in pause) want=$PAUSE_IMAGE;; postgres) want=$PG_IMAGE;; redis) want=$REDIS_IMAGE;; esac
    if ! grep -qx "$want" <<<"$have" || [ "$(cat "$STATE/images-imported.$n" 2>/dev/null)" != "$IMAGE_REV" ]; then
      local s; s=$(date +%s)
      ctr_ images import "$CACHE/images/$n.tar" >&2
      echo "$IMAGE_REV" > "$STATE/images-imported.$n"
      log "   imported $want in $(( $(date +%s) - s ))s"
    fi
  done
}

# ---------------------------------------------------------------- PKI and kubeconfigs
cert() { # name CN O [SANs]   signed by ca
  local name=$1 cn=$2 o=$3 sans=${4:-}
  [ -f "$PKI/$name.crt" ] && return 0
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  local subj="/CN=$cn"; [ -n "$o" ] && subj="/O=$o$subj"
  openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [ -n "$sans" ]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$sans";
    else echo "extendedKeyUsage=clientAuth"; fi
  } > "$PKI/$name.ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

kubeconfig() { # file user-cert-name
  local f=$1 c=$2
  [ -f "$f" ] && grep -q "server: https://127.0.0.1:6443" "$f" && return 0
  cat > "$f" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: steward-local
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: $(base64 -w0 < "$PKI/ca.crt")
users:
- name: $c
  user:
    client-certificate-data: $(base64 -w0 < "$PKI/$c.crt")
    client-key-data: $(base64 -w0 < "$PKI/$c.key")
contexts:
- name: steward-local
  context: {cluster: steward-local, user: $c}
current-context: steward-local
EOF
  chmod 600 "$f"
}

ensure_pki() {
  local ip; ip=$(node_ip)
  [ -n "$ip" ] || ip=127.0.0.1
  mkdir -p "$PKI"; chmod 700 "$PKI"
  # regenerate serving certs when the node IP changed
  if [ -f "$PKI/node-ip" ] && [ "$(cat "$PKI/node-ip")" != "$ip" ]; then
    rm -f "$PKI/apiserver.crt" "$PKI/kubelet-serving.crt"
  fi
  echo "$ip" > "$PKI/node-ip"
  if [ ! -f "$PKI/ca.crt" ]; then
    openssl genrsa -out "$PKI/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=steward-local-ca" -days 3650 -sha256 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
      -out "$PKI/ca.crt" 2>/dev/null
  fi
  [ -f "$PKI/sa.key" ] || { openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null; openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null; }
  cert apiserver kube-apiserver "" "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,DNS:$NODE_NAME,IP:127.0.0.1,IP:$SERVICE_IP,IP:$ip"
  cert kubelet-serving "system:node:$NODE_NAME" system:nodes "DNS:$NODE_NAME,DNS:localhost,IP:127.0.0.1,IP:$ip"
  cert admin kubernetes-admin system:masters
  cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  cert kubelet "system:node:$NODE_NAME" system:nodes
  cert kube-proxy system:kube-proxy ""
  kubeconfig "$KUBECONFIG_ADMIN" admin
  kubeconfig "$STATE/controller-manager.kubeconfig" controller-manager
  kubeconfig "$STATE/scheduler.kubeconfig" scheduler
  kubeconfig "$STATE/kubelet.kubeconfig" kubelet
  kubeconfig "$STATE/kube-proxy.kubeconfig" kube-proxy
}

# ---------------------------------------------------------------- configs
write_configs() {
  mkdir -p "$STATE/cni/net.d" "$STATE/cni/ipam" "$STATE/containerd" "$RUN/containerd" "$STATE/kubelet"
  cat > "$STATE/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd"
state = "$RUN/containerd"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # kubelet asks for oom_score_adj values below containerd's own; restrict instead of failing
  restrict_oom_score_adj = true
  tolerate_missing_hugetlb_controller = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  cat > "$STATE/cni/net.d/10-steward.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "steward",
  "plugins": [
    { "type": "bridge", "bridge": "stw0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$STATE/cni/ipam",
                "ranges": [[{ "subnet": "$POD_CIDR" }]], "routes": [{ "dst": "0.0.0.0/0" }] } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
  cat > "$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 0.0.0.0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
cgroupDriver: cgroupfs
failSwapOn: false
resolvConf: /etc/resolv.conf
serializeImagePulls: false
# images are local-only: never garbage-collect them, never evict for disk pressure on a dev box
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "50Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
maxPods: 110
syncFrequency: 10s
fileCheckFrequency: 10s
nodeStatusUpdateFrequency: 10s
EOF
}

# ---------------------------------------------------------------- process management
pid_of() { # name -> pid if alive and really ours
  local f=$RUN/$1.pid pid exe
  [ -f "$f" ] || return 1
  pid=$(cat "$f"); [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  case "$(basename "${exe% (deleted)}")" in "$1"|"$(basename "$(daemon_exe "$1")")") echo "$pid";; *) return 1;; esac
}
daemon_exe() { case $1 in etcd) echo /usr/bin/etcd;; containerd) echo /usr/bin/containerd;; *) echo "$BIN/$1";; esac; }

start_daemon() { # name args...
  local name=$1; shift
  if pid_of "$name" >/dev/null; then log "   $name already running (pid $(pid_of "$name"))"; return 0; fi
  mkdir -p "$LOGS" "$RUN"
  local exe; exe=$(daemon_exe "$name")
  # setsid: own session, survives the caller's shell; the child writes its own pid before exec
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$RUN/$name.pid" "$exe" "$@" >> "$LOGS/$name.log" 2>&1 < /dev/null 9>&- &
  local i; for i in $(seq 1 50); do [ -s "$RUN/$name.pid" ] && break; sleep 0.1; done
  sleep 0.3
  pid_of "$name" >/dev/null || { tail -20 "$LOGS/$name.log" >&2; die "$name failed to start (log: $LOGS/$name.log)"; }
  log "   $name started (pid $(cat "$RUN/$name.pid"), log $LOGS/$name.log)"
}

wait_for() { # description timeout-seconds command...
  local what=$1 t=$2; shift 2
  local end=$(( $(date +%s) + t ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || die "timed out after ${t}s waiting for $what"
    sleep 0.5
  done
}

stop_daemon() {
  local name=$1 pid i
  pid=$(pid_of "$name") || { rm -f "$RUN/$name.pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do [ -d "/proc/$pid" ] || break; sleep 0.25; done
  [ -d "/proc/$pid" ] && { log "   $name did not stop on TERM, sending KILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 0.5; }
  rm -f "$RUN/$name.pid"
  log "   stopped $name (pid $pid)"
}

# ---------------------------------------------------------------- cluster
node_ready_since() { # since: the node is Ready with a heartbeat at or after this UTC time (0: any)
  local got; got=$(kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}' 2>/dev/null) || return 1
  [ "${got%% *}" = True ] || return 1
  [ "$1" = 0 ] || [ "${got#* }" \> "$1" ] || [ "${got#* }" = "$1" ]
}

start_cluster() {
  local ip; ip=$(cat "$PKI/node-ip")
  sysctl -qw net.ipv4.ip_forward=1
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && sysctl -qw net.bridge.bridge-nf-call-iptables=1
  step_start "start control plane"
  start_daemon etcd --name steward --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "steward=http://127.0.0.1:$ETCD_PEER_PORT" --listen-metrics-urls "" --log-level warn
  wait_for "etcd" 30 curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
  start_daemon kube-apiserver --advertise-address="$ip" --bind-address=0.0.0.0 --secure-port=6443 --insecure-port=0 \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" --service-cluster-ip-range="$SERVICE_CIDR" \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
    --endpoint-reconciler-type=lease --v=1
  wait_for "kube-apiserver /readyz" 90 kc get --raw /readyz
  start_daemon kube-controller-manager --kubeconfig="$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$STATE/controller-manager.kubeconfig" --authorization-kubeconfig="$STATE/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --port=0 --leader-elect=false --use-service-account-credentials=true \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --cluster-cidr="$CLUSTER_CIDR" --service-cluster-ip-range="$SERVICE_CIDR" \
    --enable-hostpath-provisioner=true --v=1
  start_daemon kube-scheduler --kubeconfig="$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig="$STATE/scheduler.kubeconfig" --authorization-kubeconfig="$STATE/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --port=0 --leader-elect=false --v=1
  step_end

  step_start "start node (containerd, kubelet, kube-proxy)"
  start_daemon containerd --config "$STATE/containerd.toml"
  wait_for "containerd" 30 ctr --address "$SOCK" version
  import_images
  # A kubelet started now must report the node Ready itself: the node's Ready=True from before a `down` is stale
  # (measured: `up` after `down` returned while the restarted kubelet still said "container runtime status check may
  # not have completed yet").
  local since=0; pid_of kubelet >/dev/null || since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  start_daemon kubelet --config="$STATE/kubelet.yaml" --kubeconfig="$STATE/kubelet.kubeconfig" \
    --container-runtime=remote --container-runtime-endpoint="unix://$SOCK" --runtime-request-timeout=5m \
    --root-dir="$STATE/kubelet" --hostname-override="$NODE_NAME" --node-ip="$ip" \
    --pod-infra-container-image="$PAUSE_IMAGE" --v=1
  start_daemon kube-proxy --kubeconfig="$STATE/kube-proxy.kubeconfig" --proxy-mode=iptables \
    --hostname-override="$NODE_NAME" --cluster-cidr="$CLUSTER_CIDR" --conntrack-max-per-core=0 \
    --bind-address=127.0.0.1 --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 --v=1
  wait_for "node $NODE_NAME Ready" 120 node_ready_since "$since"
  step_end

  step_start "cluster add-ons (default StorageClass)"
  kc apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/host-path
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF
  wait_for "default ServiceAccount" 60 kc -n default get serviceaccount default
  step_end
}

kill_pod_containers() {
  [ -S "$SOCK" ] && pid_of containerd >/dev/null || return 0
  local ids id
  ids=$(ctr_ tasks ls -q 2>/dev/null || ctr_ tasks ls 2>/dev/null | awk 'NR>1{print $1}')
  [ -n "$ids" ] || return 0
  log "   killing $(wc -w <<<"$ids") pod containers"
  # remember the sandboxes' network namespaces: `up` lets kubelet tear them down through CNI (releasing
  # the IPs); `reset` deletes them directly
  for id in $ids; do ctr_ containers info "$id" 2>/dev/null | grep -o '/var/run/netns/cni-[0-9a-f-]*' || true; done \
    | sort -u >> "$STATE/netns.list"
  for id in $ids; do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
  sleep 1
  for id in $ids; do ctr_ tasks delete -f "$id" >/dev/null 2>&1 || ctr_ tasks delete "$id" >/dev/null 2>&1 || true; done
}

leftover_pids() { # shims and container processes that belong to our containerd
  local p
  for p in /proc/[0-9]*; do
    tr '\0' ' ' < "$p/cmdline" 2>/dev/null | grep -q -- "-address $SOCK" && basename "$p"
  done
  return 0
}

unmount_state() { # pod volume mounts (kubelet root dir) and sandbox /dev/shm mounts (containerd state)
  local m
  for m in $(awk -v s="$STATE/" -v r="$RUN/" 'index($2, s) == 1 || index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

cmd_down() {
  log "stopping cluster"
  stop_daemon kube-proxy
  stop_daemon kubelet
  kill_pod_containers
  stop_daemon kube-scheduler
  stop_daemon kube-controller-manager
  stop_daemon containerd
  local p; for p in $(leftover_pids); do log "   killing leftover shim pid $p"; kill -KILL "$p" 2>/dev/null || true; done
  stop_daemon kube-apiserver
  stop_daemon etcd
  unmount_state
  log "cluster stopped ($(( $(date +%s) - T0 ))s)"
}

cmd_up() {
  [ "$(id -u)" = 0 ] || die "must run as root"
  mkdir -p "$CACHE" "$STATE" "$RUN" "$LOGS"
  ensure_packages
  ensure_k8s_binaries
  ensure_image_archives
  ensure_pki
  write_configs
  start_cluster
  log "cluster up in $(( $(date +%s) - T0 ))s; kubectl: $BIN/kubectl; export KUBECONFIG=$KUBECONFIG_ADMIN"
}

cmd_status() {
  local d
  for d in $DAEMONS; do
    if pid_of "$d" >/dev/null; then echo "$d running pid $(pid_of "$d")"; else echo "$d stopped"; fi
  done
}

cmd_reset() {
  cmd_down
  local ns
  for ns in $(sort -u "$STATE/netns.list" 2>/dev/null); do
    [ -e "$ns" ] && { umount "$ns" 2>/dev/null || true; rm -f "$ns"; }
  done
  ip link delete stw0 2>/dev/null || true
  rm -rf "$STATE" "$RUN"
  rm -rf /tmp/hostpath_pv
  log "state removed (build cache kept in $CACHE)"
}

case "${1:-}" in up|down|reset|build|images)
  # one mutating invocation at a time
  mkdir -p "$(dirname "$RUN")"; exec 9>"$RUN.lock"; flock -w 900 9 || die "another local-cluster.sh holds $RUN.lock";;
esac
cmd_ready() {
  [ -x "$BIN/kubectl" ] && [ -f "$KUBECONFIG_ADMIN" ] || return 1
  pid_of kube-apiserver >/dev/null && pid_of kubelet >/dev/null && pid_of kube-proxy >/dev/null || return 1
  kc get --raw /readyz >/dev/null 2>&1 || return 1
  kc get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -qx True
}

case "${1:-}" in
  up) cmd_up ;;
  ready) cmd_ready ;;
  build) mkdir -p "$CACHE"; ensure_packages; ensure_k8s_binaries; ensure_image_archives ;;
  images) mkdir -p "$CACHE"; ensure_image_archives ;;
  down) cmd_down ;;
  env) echo "export KUBECONFIG=$KUBECONFIG_ADMIN"; echo "export PATH=$BIN:\$PATH" ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 up|ready|down|env|status|reset|build" >&2; exit 2 ;;
esac
