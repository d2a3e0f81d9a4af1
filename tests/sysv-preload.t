#!/bin/sh
SHMSHIM_SYSV=files exec "$(dirname "$0")/run" preload t_sysv
