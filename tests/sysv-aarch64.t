#!/bin/sh
SHMSHIM_SYSV=files exec "$(dirname "$0")/run" aarch64 t_sysv
