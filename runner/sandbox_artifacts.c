/*
 * A compile's output and a run's artifacts leave their sandbox: init
 * (sandbox_child.c), once the compiler has exited 0, streams every regular
 * file the compiler left in /tmp/out to the runner on the stdout pipe (the
 * compiler's own stdout joined its stderr); once a run's program has
 * exited and every other process of the run is gone, those of the run's
 * out/ on the artifacts memfd. The runner gets bytes, never a path into
 * the sandbox, so nothing the program planted (a symlink, a FIFO, a
 * directory) is followed or opened by the host.
 *
 * Runs in init under the rules of sandbox_child.h: no malloc, no stdio.
 */
#include "sandbox_child.h"
#include "sandbox_fail.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Copies the open file fd (size bytes) to out. Returns 0 or -1. */
static int copy_file(int fd, int out, off_t size)
{
	char buf[16384];

	while (size > 0) {
		ssize_t n = read(fd, buf, sizeof buf);

		if (n <= 0 || n > size)
			return -1;
		if (sandbox_child_write_all(out, buf, (size_t)n) < 0)
			return -1;
		size -= n;
	}
	return 0;
}

/* One file of dir: skipped unless a regular file. Returns 0 or -1. */
static int send_one(int dir, const char *name, int out)
{
	struct sandbox_artifact_header h;
	struct stat st;
	size_t len = strlen(name);
	int fd, rc = -1;

	if (name[0] == '.' || len > 254)
		return 0;
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0;                       /* a symlink (ELOOP), gone, ...: not an artifact */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	h.name_len = (unsigned int)len + 1;
	h.exec = (st.st_mode & 0100) != 0;
	h.size = (unsigned long long)st.st_size;
	if (sandbox_child_write_all(out, &h, sizeof h) == 0 &&
	    sandbox_child_write_all(out, name, len + 1) == 0)
		rc = copy_file(fd, out, st.st_size);
	close(fd);
	return rc;
}

int sandbox_send_artifacts(const char *path, int out)
{
	char buf[8192];
	int dir = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	long n;

	if (dir < 0)
		return -1;
	while ((n = syscall(SYS_getdents64, dir, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(void *)(buf + off);

			if (send_one(dir, d->d_name, out) < 0) {
				close(dir);
				return -1;
			}
			off += d->d_reclen;
		}
	}
	close(dir);
	return n < 0 ? -1 : 0;
}

int sandbox_artifacts_parse(const char *buf, size_t len, struct sandbox_file *files, int max)
{
	int n = 0;

	while (len > 0) {
		struct sandbox_artifact_header h;

		if (n == max || len < sizeof h)
			return -1;
		memcpy(&h, buf, sizeof h);
		buf += sizeof h;
		len -= sizeof h;
		if (h.name_len == 0 || h.name_len > 255 || h.name_len > len || h.size > len - h.name_len)
			return -1;
		/* The name was read by init from a directory the compiler
		 * wrote, NUL included: a plain name, but trust it no further. */
		if (h.name_len < 2 || strnlen(buf, h.name_len) != h.name_len - 1 ||
		    memchr(buf, '/', h.name_len) || buf[0] == '.')
			return -1;
		files[n] = (struct sandbox_file){ .name = buf, .data = buf + h.name_len,
						  .len = (size_t)h.size, .exec = h.exec != 0 };
		buf += h.name_len + h.size;
		len -= h.name_len + (size_t)h.size;
		n++;
	}
	return n;
}
