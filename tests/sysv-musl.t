#!/bin/sh
SHMSHIM_SYSV=files exec "$(dirname "$0")/run" musl t_sysv
