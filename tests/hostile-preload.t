#!/bin/sh
exec "$(dirname "$0")/run" preload t_hostile
