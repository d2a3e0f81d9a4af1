#!/bin/sh
exec "$(dirname "$0")/run" aarch64 t_lock
