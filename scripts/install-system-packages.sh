#!/usr/bin/env bash
# Install the Debian packages Anju needs, only those missing, so `make` stays fast once set up.
set -euo pipefail

packages=(
  postgresql-15 postgresql-15-postgis-3   # the database and its spatial extension
  libgdal32 libgeos-c1v5 libproj25 binutils gdal-bin  # GeoDjango; ogrinfo for GIS-client tests
  chromium fonts-wqy-microhei             # headless browser tests, Chinese glyphs (and PDFs)
  libpango-1.0-0 libpangoft2-1.0-0        # WeasyPrint renders contracts to PDF
  poppler-utils libnss3-tools             # pdfsig (an independent check of our PDF signatures), certutil
  gettext                                 # msgfmt compiles locale/*.po (make, compilemessages)
)
if [ "${ANJU_SKIP_BROWSER:-}" = "1" ]; then
  packages=("${packages[@]/chromium/}")
fi

missing=()
for p in "${packages[@]}"; do
  [ -n "$p" ] || continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
