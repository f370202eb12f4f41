#!/bin/sh
# Generates ./configure from configure.ac (needs autoconf, automake, libtool,
# and dovecot-dev for dovecot.m4).
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
autoreconf -fi
