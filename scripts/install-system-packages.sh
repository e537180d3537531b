#!/usr/bin/env bash
# Installs the Debian packages platepay needs beyond Node.js itself:
#   fonts-noto-cjk     CJK font, so rendered test plates show Chinese province characters
#   fonts-dejavu-core  the Latin font the renderer draws plate characters with
#   ffmpeg             decodes RTSP, MJPEG and video-file cameras into raw frames (edge/camera)
#   chromium           the browser the web page tests drive with playwright-core (test/web)
# Safe to run again: it only installs what is missing. Needs root (or sudo).
set -euo pipefail
packages=(fonts-noto-cjk fonts-dejavu-core ffmpeg chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${packages[*]})"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "system packages: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fc-cache -f >/dev/null 2>&1 || true
