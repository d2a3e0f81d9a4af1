/* errname.h - the names and texts of errno values, for the trace. */
#ifndef SHMSHIM_ERRNAME_H
#define SHMSHIM_ERRNAME_H

/*
 * The symbolic name of err ("ENOENT") and its description ("No such file
 * or directory"); for a value not in the table, NULL and "Unknown error".
 */
const char *err_name(int err);
const char *err_text(int err);

#endif
