#!/usr/bin/env bash
# The /etc/cron.d files of common Debian 12 packages, for the import round-trip
# test (test/integration/migrate/roundtrip.test.ts): `apt-get download` of each
# package, its etc/cron.d/* extracted with dpkg-deb -x. Cached by the package
# list under ~/.cache/systemd-workload-operator/debian-crontabs/; prints the
# directory holding one file per package's crontab (PACKAGE_FILE). Fails loudly
# when a package cannot be downloaded or ships no /etc/cron.d file.
set -euo pipefail
PACKAGES=(sysstat anacron certbot php-common e2fsprogs ntpsec mdadm)
CACHE="${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}/debian-crontabs"
KEY=$(printf '%s\n' "${PACKAGES[@]}" | sha256sum | cut -c1-12)
OUT="$CACHE/$KEY"
if [[ -f "$OUT/.complete" ]]; then
  echo "$OUT"
  exit 0
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/debs" "$WORK/out"
download() { (cd "$WORK/debs" && apt-get download "${PACKAGES[@]}" >&2); }
# A machine whose package lists are missing or stale (a fresh image, or one whose
# packages were all installed long ago) needs one apt-get update first.
download || { apt-get update >&2 && download; } || {
  echo "debian-crontabs: apt-get download ${PACKAGES[*]} failed, also after apt-get update" >&2
  exit 1
}
for p in "${PACKAGES[@]}"; do
  deb=$(ls "$WORK/debs/${p}"_*.deb)
  dpkg-deb -x "$deb" "$WORK/x-$p"
  found=0
  for f in "$WORK/x-$p"/etc/cron.d/*; do
    [[ -f "$f" ]] || continue
    cp "$f" "$WORK/out/${p}_$(basename "$f")"
    found=1
  done
  if [[ $found == 0 ]]; then
    echo "debian-crontabs: $deb ships no /etc/cron.d file" >&2
    exit 1
  fi
done
mkdir -p "$CACHE"
rm -rf "$OUT"
cp -r "$WORK/out" "$OUT"
touch "$OUT/.complete"
echo "$OUT"
