#!/usr/bin/env bash
# The Debian packages, checked end to end: builds a Release tree for /usr with Debian's hardening
# flags in build/pkg, makes the packages with `cpack -G DEB`, checks each with lintian (any error
# fails), installs them with dpkg, runs the INSTALLED binaries (ice-server as the packaged system
# user with its packaged config, a domain keyed into the packaged key directory, domain-server,
# interface-stub), builds a small program against the installed CMake package, then purges the
# packages and checks that the user, the state and the files are gone. Cleans up on failure too.
#
# Needs root (dpkg -i) and refuses to run where the packages or the user already exist, since it
# purges them at the end. The last line is the summary scripts/test.sh prints, e.g.
#   packages: 3 built, lintian 0 errors (12 warnings), installed run connected, purged
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh

packages=(icebreaker-ice-server icebreaker-tools libicebreaker-dev)
conf=/etc/icebreaker/ice-server.conf
keys=/var/lib/icebreaker/ice-server/keys
dir=build/pkg

fail() { echo "package-test: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || { echo "package-test: needs root (dpkg -i, a system user)" >&2; exit 2; }
for pkg in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv "not-installed"; then
    echo "package-test: $pkg is already on this machine; this test would purge it, so it stops" >&2
    exit 2
  fi
done
if getent passwd icebreaker >/dev/null; then
  echo "package-test: a user 'icebreaker' exists already; this test would delete it, so it stops" >&2
  exit 2
fi
icebreaker_install_deps test
umask 022

work=$(mktemp -d /tmp/icebreaker-package-test.XXXXXX)
chmod 0755 "$work"
pids=()
installed=0
cleanup() {
  local rc=$?
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $installed -eq 1 ] && [ $rc -ne 0 ]; then
    echo "== cleaning up after the failure: purging the packages"
    dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- build ------------------------------------------------------------------------------------
echo "== building a Release tree for /usr in $dir (Debian's hardening flags)"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
# No -g: the packages ship stripped binaries, and debug info only slows the build.
cxxflags="$(dpkg-buildflags --get CPPFLAGS) $(dpkg-buildflags --get CXXFLAGS | sed -E 's/(^| )-g( |$)/ /')"
ldflags=$(dpkg-buildflags --get LDFLAGS)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
mkdir -p build
cmake -S . -B "$dir" -G Ninja "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DICEBREAKER_BUILD_TESTS=OFF -DICEBREAKER_QT_MAJOR=6 -DICEBREAKER_MAN_PAGES=ON \
  -DCMAKE_CXX_FLAGS="$cxxflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" \
  >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; fail "configure"; }
cmake --build "$dir" -j"$(nproc)" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; fail "build"; }
tail -n 1 "$dir.build.log"

echo "== cpack -G DEB"
rm -f "$dir"/*.deb
(cd "$dir" && cpack -G DEB) >"$dir.cpack.log" 2>&1 || { cat "$dir.cpack.log"; fail "cpack"; }
debs=()
for pkg in "${packages[@]}"; do
  deb=$(ls "$dir/${pkg}_"*.deb 2>/dev/null) || fail "cpack made no $pkg package"
  debs+=("$deb")
  echo "-- $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
  dpkg-deb -c "$deb" | awk '{ print "   " $1, $6 }'
done

# -- lintian ----------------------------------------------------------------------------------
echo "== lintian"
lintian_errors=0 lintian_warnings=0
for deb in "${debs[@]}"; do
  rc=0
  out=$(lintian --fail-on error "$deb" 2>&1) || rc=$?
  # lintian warns about running as root; it only reads the package here.
  out=$(grep -v 'running with root privileges' <<<"$out" || true)
  if [ -n "$out" ]; then echo "$out"; fi
  lintian_errors=$((lintian_errors + $(grep -c '^E: ' <<<"$out" || true)))
  lintian_warnings=$((lintian_warnings + $(grep -c '^W: ' <<<"$out" || true)))
  [ $rc -eq 0 ] || fail "lintian reports errors in $(basename "$deb")"
done
echo "lintian: $lintian_errors errors, $lintian_warnings warnings"

# -- install ----------------------------------------------------------------------------------
echo "== dpkg -i"
installed=1
if ! dpkg -i "${debs[@]}"; then
  # Only missing dependencies may be fetched, and only from the configured (Debian) archive.
  DEBIAN_FRONTEND=noninteractive apt-get -f install -y -qq --no-install-recommends || fail "dpkg -i"
fi
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}\n' "$pkg" | grep -q "install ok installed" || fail "$pkg is not installed"
done
getent passwd icebreaker >/dev/null || fail "postinst did not create the user icebreaker"
for f in /etc/icebreaker/ice-server.conf /etc/icebreaker/domain-server.conf; do
  grep -qx "$f" /var/lib/dpkg/info/icebreaker-*.conffiles || fail "$f is not a conffile"
done
for page in ice-server domain-server interface-stub ice-client ice-keygen ice-bench; do
  [ -f "/usr/share/man/man1/$page.1.gz" ] || fail "no man page $page.1.gz"
done
[ "$(stat -c %U:%G "$keys")" = icebreaker:icebreaker ] || fail "$keys is not owned by icebreaker"
[ -f /lib/systemd/system/ice-server.service ] || fail "no systemd unit"
grep -qE "^ExecStart=/usr/bin/ice-server( |$)" /lib/systemd/system/ice-server.service \
  || fail "the unit's ExecStart does not name /usr/bin/ice-server"
if command -v systemd-analyze >/dev/null; then
  systemd-analyze verify /lib/systemd/system/ice-server.service 2>&1 | grep -v 'network-online.target' || true
fi

# -- run the installed binaries ---------------------------------------------------------------
free_port() {  # a free port of the given type on loopback (udp or tcp)
  python3 -c 'import socket, sys
kind = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, kind); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}
port=$(free_port udp)
http=$(free_port tcp)

echo "== ice-keygen: a domain key into $keys"
domain=$(/usr/bin/ice-keygen --keypair "$work/domain.key" --keys-dir "$keys")
echo "domain $domain"

# The packaged config decides everything but where to listen: the command line wins over the file,
# so the test keeps off 7337/7338 (a real ice-server may use them) and off other interfaces.
echo "== ice-server as user icebreaker with --config $conf, on UDP 127.0.0.1:$port, HTTP $http"
HOME=/var/lib/icebreaker setpriv --reuid=icebreaker --regid=icebreaker --init-groups --inh-caps=-all \
  /usr/bin/ice-server --config "$conf" --bind 127.0.0.1 --port "$port" --http-port "$http" \
  >"$work/ice-server.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  curl -sf "http://127.0.0.1:$http/status" >/dev/null && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/ice-server.log"; fail "the installed ice-server exited"; }
  sleep 0.2
done
curl -sf "http://127.0.0.1:$http/status" >/dev/null || { cat "$work/ice-server.log"; fail "ice-server /status never answered"; }
[ "$(ps -o uid= -p "${pids[0]}" | tr -d ' ')" = "$(id -u icebreaker)" ] || fail "ice-server does not run as icebreaker"
# The key directory comes from the packaged file, not from the command line.
grep -q "options from $conf" "$work/ice-server.log" \
  || { cat "$work/ice-server.log"; fail "ice-server did not read $conf"; }
grep -q "trusted domain keys in $keys (1 keys" "$work/ice-server.log" \
  || { cat "$work/ice-server.log"; fail "ice-server did not read the key from $keys"; }

echo "== domain-server and interface-stub"
# domain-server reads its packaged /etc/icebreaker/domain-server.conf by default; its UDP port is
# moved off the packaged 40102 the same way.
/usr/bin/domain-server --domain-id "$domain" --keypair "$work/domain.key" --ice-server "127.0.0.1:$port" \
  --port "$(free_port udp)" \
  >"$work/domain-server.log" 2>&1 &
pids+=($!)
client_rc=0
timeout 60 /usr/bin/interface-stub --ice-server "127.0.0.1:$port" --domain-id "$domain" --keepalive 3 \
  >"$work/interface-stub.log" 2>&1 || client_rc=$?
cat "$work/interface-stub.log"
if [ $client_rc -ne 0 ] || ! grep -q "^connected to domain $domain" "$work/interface-stub.log"; then
  echo "-- ice-server log"; cat "$work/ice-server.log"
  echo "-- domain-server log"; cat "$work/domain-server.log"
  fail "interface-stub did not connect (exit $client_rc)"
fi
echo "ice-server /status: $(curl -s "http://127.0.0.1:$http/status")"
for pid in "${pids[@]}"; do kill "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" || true; done
pids=()

# -- the CMake package of libicebreaker-dev ---------------------------------------------------
echo "== find_package(Icebreaker) against the installed libicebreaker-dev"
mkdir "$work/consumer"
cat >"$work/consumer/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.16)
project(consumer CXX)
set(CMAKE_CXX_STANDARD 17)
find_package(Icebreaker 0.1 REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE Icebreaker::networking)
EOF
cat >"$work/consumer/main.cpp" <<'EOF'
#include <HostAndPort.h>
#include <cstdio>
int main() {
    std::printf("%s\n", qPrintable(HostAndPort::parse(QStringLiteral("[::1]:7337"), 0).toString()));
}
EOF
(cmake -S "$work/consumer" -B "$work/consumer/build" -G Ninja && cmake --build "$work/consumer/build") \
  >"$work/consumer.log" 2>&1 || { cat "$work/consumer.log"; fail "a program cannot build against the installed package"; }
echo "consumer prints: $("$work/consumer/build/consumer")"

# -- purge ------------------------------------------------------------------------------------
echo "== dpkg --purge"
dpkg --purge "${packages[@]}"
installed=0
for pkg in "${packages[@]}"; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv "not-installed"; then fail "$pkg is still known to dpkg"; fi
done
if getent passwd icebreaker >/dev/null; then fail "the user icebreaker survived the purge"; fi
if getent group icebreaker >/dev/null; then fail "the group icebreaker survived the purge"; fi
for path in /usr/bin/ice-server /usr/bin/domain-server /usr/include/icebreaker /etc/icebreaker /var/lib/icebreaker \
            /lib/systemd/system/ice-server.service /etc/systemd/system/multi-user.target.wants/ice-server.service \
            /usr/share/doc/icebreaker-ice-server; do
  if [ -e "$path" ] || [ -L "$path" ]; then fail "$path survived the purge"; fi
done

echo "packages: ${#debs[@]} built, lintian $lintian_errors errors ($lintian_warnings warnings), installed run connected, purged"
