/* Failing closed inside the sandbox (see sandbox_fail.h). */
#include "sandbox_fail.h"

#include <errno.h>
#include <unistd.h>

void sandbox_child_report(int fd, int kind, int wstatus, int err, const char *what)
{
	struct sandbox_status st = { .kind = kind, .wstatus = wstatus, .err = err };

	for (size_t i = 0; what && what[i] && i < sizeof st.what - 1; i++)
		st.what[i] = what[i];
	ssize_t n = write(fd, &st, sizeof st);
	(void)n;
}

_Noreturn void sandbox_child_die(int fd, const char *what)
{
	sandbox_child_report(fd, SANDBOX_ST_FAILED, 0, errno, what);
	_exit(127);
}

void sandbox_child_await(int fd, int report, const char *what)
{
	char c;
	ssize_t n;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		if (n == 0)
			errno = EPIPE;
		sandbox_child_die(report, what);
	}
}

int sandbox_child_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
