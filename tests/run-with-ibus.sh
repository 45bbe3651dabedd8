#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Runs a UI test with a real input method: its own D-Bus session, an IBus
# daemon on the test's X display (xvfb-run), the libpinyin engine, and
# GTK_IM_MODULE=ibus. Skips (exit 77) where IBus, its pinyin engine, its
# GTK 4 module or xdotool is missing; fails when IBus is there but does not
# come up.
set -u

if [ "${1:-}" != "--inside" ]; then
  for tool in dbus-run-session ibus-daemon ibus xdotool; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      echo "SKIP: $tool is not installed"
      exit 77
    fi
  done
  if ! ls /usr/lib/*/gtk-4.0/*/immodules/libim-ibus.so >/dev/null 2>&1; then
    echo "SKIP: IBus's GTK 4 input method module (ibus-gtk4) is not installed"
    exit 77
  fi
  if ! ls /usr/share/ibus/component/libpinyin.xml >/dev/null 2>&1; then
    echo "SKIP: the libpinyin engine (ibus-libpinyin) is not installed"
    exit 77
  fi
  exec dbus-run-session -- "$0" --inside "$@"
fi
shift

# A home of its own: IBus's address file and the pinyin engine's learning
# stay out of the user's.
home=$(mktemp -d "${TMPDIR:-/tmp}/cardtill-ibus-XXXXXX")
export HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" \
       XDG_DATA_HOME="$home/.local/share"
trap 'env -u G_DEBUG ibus exit >/dev/null 2>&1; rm -rf "$home"' EXIT

# The daemon and its engines keep their settings in dconf, as on a till;
# pinyin is the engine the panel loads, so it does not switch back to the
# keyboard layout when the test's window takes the focus.
env -u GSETTINGS_BACKEND gsettings set org.freedesktop.ibus.general preload-engines "['libpinyin']"
env -u GSETTINGS_BACKEND ibus-daemon -d -x -r

# The daemon takes a while on a loaded machine: ask until the engine is set.
tries=0
# ("ibus engine NAME" exits 1 even when it worked: read the engine back.)
until env -u G_DEBUG ibus engine libpinyin >/dev/null 2>&1; [ "$(env -u G_DEBUG ibus engine 2>/dev/null)" = libpinyin ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 300 ]; then
    echo "IBus did not come up with the libpinyin engine in time"
    exit 1
  fi
  sleep 0.2
done

GTK_IM_MODULE=ibus "$@"
status=$?
exit $status
