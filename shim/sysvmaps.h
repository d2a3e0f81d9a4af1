/*
 * sysvmaps.h - System V attachments as the kernel's memory maps show them
 * (/proc/PID/maps): how many a segment has, and the one at an address.
 */
#ifndef SHMSHIM_SYSVMAPS_H
#define SHMSHIM_SYSVMAPS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The number of mappings of a segment's memory, the file (dev, ino) as
 * maps_file_id gives them, in every process whose maps the caller can
 * read: the kernel's shm_nattch counts the same (one per mapping, so
 * through fork, and none after exec or exit). Returns -1 when /proc
 * cannot be read.
 */
long maps_count(dev_t dev, ino_t ino);

/*
 * The device and inode /proc/PID/maps shows for the open file fd, learnt
 * by mapping its first page for a moment: on overlayfs (before Linux
 * 6.12 or so) and btrfs they are not what fstat says. Returns 0, or -1
 * with errno when fd cannot be mapped or /proc cannot be read.
 */
int maps_file_id(int fd, dev_t *dev, ino_t *ino);

/*
 * The attachment of this process that starts at addr: a mapping at
 * offset SYSV_DATA_OFF of a segment file (.SHVD<id>, removed or not),
 * with the mappings that continue it (mprotect splits one). Returns 0
 * with its length, id, device and inode, or -1 with errno EINVAL (no
 * attachment starts there, or /proc cannot be read).
 */
int maps_attachment(const void *addr, size_t *len, int *id, dev_t *dev, ino_t *ino);

#endif
