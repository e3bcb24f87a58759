#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetches Debian's pinned linux-source package (once), checks its checksum, extracts it into the
# cache and prints the source directory.
. "$(dirname "$0")/common.sh"

# sha256 of the pinned .deb, checked before anything is extracted.
KSRC_SHA256=${KSRC_SHA256:-703e369ddd4cce971452f5a593ee55df3a5c10c83caf0fa0df039633ed181ee3}

DEST=$CACHE/src/linux-$KSRC_VER
if [ -f "$DEST/.complete" ]; then echo "$DEST"; exit 0; fi
if [ -z "${LAB_LOCKED_KSRC:-}" ]; then LAB_LOCKED_KSRC=1 exec flock "$CACHE/.ksrc.lock" "$0" "$@"; fi
DL=$CACHE/dl
mkdir -p "$DL"
deb=$DL/${KSRC_PKG}_${KSRC_VER}_all.deb
if [ ! -f "$deb" ]; then
	log "downloading $KSRC_PKG $KSRC_VER"
	(cd "$DL" && "$LAB_DIR/inroot.sh" apt-get download "$KSRC_PKG=$KSRC_VER" >&2)
	[ -f "$deb" ] || deb=$(ls "$DL"/${KSRC_PKG}_*.deb | head -n1)
fi
sum=$(sha256sum "$deb" | cut -d' ' -f1)
if [ "$sum" != "$KSRC_SHA256" ]; then
	rm -f "$deb"
	die "checksum mismatch for $deb: got $sum, want $KSRC_SHA256"
fi
TMP=$DEST.tmp
rm -rf "$TMP"; mkdir -p "$TMP"
log "extracting kernel source"
dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/$KSRC_TAR" | tar -xJ -C "$TMP" --strip-components=1
touch "$TMP/.complete"
rm -rf "$DEST"; mv "$TMP" "$DEST"
echo "$DEST"
