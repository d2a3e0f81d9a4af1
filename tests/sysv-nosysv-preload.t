#!/bin/sh
# t_sysv inside a seccomp sandbox that refuses System V shared memory
# (ENOSYS): the default setting must keep segments in files.
unset SHMSHIM_SYSV
exec "$(dirname "$0")/run" nosysv-preload t_sysv
