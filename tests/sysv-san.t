#!/bin/sh
SHMSHIM_SYSV=files exec "$(dirname "$0")/run" san t_sysv
