#!/bin/sh
exec "$(dirname "$0")/run" noproc t_hostile
