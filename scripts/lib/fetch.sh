# Checked downloads for scripts/download-*.sh (source it; set `name` first,
# for messages). Online users only: soma never downloads anything itself.

die() { echo "$name: $*" >&2; exit 1; }

command -v md5sum >/dev/null || die "md5sum is missing (apt-get install coreutils)"
if command -v curl >/dev/null; then
  fetch() { curl -fsSL --retry 2 --connect-timeout 20 -o "$2" "$1"; }
elif command -v wget >/dev/null; then
  fetch() { wget -q --tries=3 --timeout=20 -O "$2" "$1"; }
else
  die "neither curl nor wget is installed (apt-get install curl)"
fi

# sum_ok FILE MD5: the file is there with that MD5 sum
sum_ok() { [[ -f "$1" && "$(md5sum "$1" | cut -d' ' -f1)" == "$2" ]]; }

# fetch_checked URL OUT MD5: OUT from URL through OUT.part, kept only with the
# right sum (a wrong one is deleted); fails, saying why, otherwise
fetch_checked() {
  echo "$name: fetching $1"
  if ! fetch "$1" "$2.part"; then
    rm -f "$2.part"
    echo "$name: could not fetch $1" >&2
    return 1
  fi
  if ! sum_ok "$2.part" "$3"; then
    rm -f "$2.part"
    echo "$name: $1 has the wrong MD5 sum (expected $3); deleted it" >&2
    return 1
  fi
  mv -f "$2.part" "$2"
}
