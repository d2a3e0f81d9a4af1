#!/bin/sh
exec "$(dirname "$0")/run" musl t_shm
