#!/usr/bin/env bash
# System packages the test suite uses: LibreOffice (renders the workbook) and poppler (PDF to text/PNG).
# Installs them with apt-get when missing and when running as root; otherwise says what is missing.
set -u
missing=()
command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]} (for the workbook rendering test)"
  (apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "${missing[@]}" >/dev/null 2>&1; }) \
    || echo "could not install ${missing[*]}: the rendering test will be skipped"
else
  echo "missing ${missing[*]} (install them to run the workbook rendering test)"
fi
exit 0
