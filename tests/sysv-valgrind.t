#!/bin/sh
SHMSHIM_SYSV=files exec "$(dirname "$0")/run" valgrind t_sysv
