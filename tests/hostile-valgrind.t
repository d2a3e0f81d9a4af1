#!/bin/sh
exec "$(dirname "$0")/run" valgrind t_hostile
