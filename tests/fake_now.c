/*
 * fake_now.c - a clock for the shmclean tests, loaded into shmclean with
 * LD_PRELOAD: time() answers $FAKE_NOW (seconds since the epoch) when it
 * is set, and the real time otherwise. The age shmclean compares counts
 * from a file's ctime, which nobody can set back; so a test that needs an
 * object that changed exactly a minute ago moves shmclean's clock ahead.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <time.h>

time_t time(time_t *t)
{
	const char *fake = getenv("FAKE_NOW");
	struct timespec ts;
	time_t now;

	if (fake && *fake) {
		now = (time_t)strtoll(fake, NULL, 10);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		now = ts.tv_sec;
	}
	if (t)
		*t = now;
	return now;
}
