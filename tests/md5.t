#!/bin/sh
exec "$(dirname "$0")/run" unit t_md5
