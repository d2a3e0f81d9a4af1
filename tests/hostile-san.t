#!/bin/sh
exec "$(dirname "$0")/run" san t_hostile
