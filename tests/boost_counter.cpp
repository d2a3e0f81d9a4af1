// boost_counter.cpp - Boost.Interprocess under the shim: a parent and a
// forked child share a counter in a shared_memory_object, guarded by an
// interprocess_mutex that lives inside the segment.
//
//   boost_counter N   each process adds 1 N times; prints the total and
//                     whether the object was <root>/.SHMDshmshim_boost
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>

namespace bip = boost::interprocess;

struct Shared {
	bip::interprocess_mutex mutex;
	long counter = 0;
};

static void add(Shared *s, long n)
{
	for (long i = 0; i < n; i++) {
		bip::scoped_lock<bip::interprocess_mutex> guard(s->mutex);
		long v = s->counter;
		sched_yield();
		s->counter = v + 1;
	}
}

int main(int argc, char **argv)
{
	const char *name = "shmshim_boost";
	long n = argc > 1 ? std::atol(argv[1]) : 10000;
	const char *root = std::getenv("SHMSHIM_DIR");
	std::string file = std::string(root ? root : "/tmp") + "/.SHMD" + name;

	bip::shared_memory_object::remove(name);
	bip::shared_memory_object shm(bip::create_only, name, bip::read_write);
	shm.truncate(sizeof(Shared));
	bip::mapped_region region(shm, bip::read_write);
	Shared *s = new (region.get_address()) Shared;

	struct stat st;
	bool in_root = stat(file.c_str(), &st) == 0 && st.st_size == (off_t)sizeof(Shared);

	pid_t child = fork();
	if (child == 0) {
		// The child opens the object by name, as another program would.
		bip::shared_memory_object again(bip::open_only, name, bip::read_write);
		bip::mapped_region r(again, bip::read_write);
		add(static_cast<Shared *>(r.get_address()), n);
		_exit(0);
	}
	add(s, n);
	int status;
	waitpid(child, &status, 0);
	std::printf("total %ld\nin_root %s\n", s->counter, in_root ? "yes" : "no");
	bip::shared_memory_object::remove(name);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
