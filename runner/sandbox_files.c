/* A run's files, handed to a sandbox built before them (sandbox_files.h). */
#include "sandbox_files.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int sandbox_seal_memfd(int fd)
{
	int e;

	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) == 0 &&
	    lseek(fd, 0, SEEK_SET) == 0)
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int write_part(int fd, const void *data, size_t len)
{
	return len == 0 ? 0 : sandbox_child_write_all(fd, data, len);
}

static int write_entries(int fd, const struct sandbox_file *files, int n)
{
	for (int i = 0; i < n; i++) {
		size_t name_len = strlen(files[i].name) + 1;
		struct sandbox_artifact_header h = {
			.name_len = (unsigned int)name_len, .exec = files[i].exec, .size = files[i].len,
		};

		if (write_part(fd, &h, sizeof h) < 0 || write_part(fd, files[i].name, name_len) < 0 ||
		    write_part(fd, files[i].data, files[i].len) < 0)
			return -1;
	}
	return 0;
}

int sandbox_files_memfd(const struct sandbox_job *job)
{
	struct sandbox_files_header h = {
		.source_len = job->source_len,
		.stdin_len = job->interactive ? 0 : job->stdin_len,
		.nfiles = (unsigned int)job->nfiles,
		.napp_files = (unsigned int)job->napp_files,
	};
	int fd = memfd_create("files", MFD_CLOEXEC | MFD_ALLOW_SEALING), e;

	if (fd < 0)
		return -1;
	if (write_part(fd, &h, sizeof h) == 0 && write_part(fd, job->source, h.source_len) == 0 &&
	    write_part(fd, job->stdin_data, h.stdin_len) == 0 && write_entries(fd, job->files, job->nfiles) == 0 &&
	    write_entries(fd, job->app_files, job->napp_files) == 0)
		return sandbox_seal_memfd(fd);
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* n entries from *p (left past them) into files; a compiled file's name
 * must be plain. Returns 0, or -1 if they run past end. */
static int parse_entries(const char **p, const char *end, struct sandbox_file *files, unsigned int n, bool plain)
{
	for (unsigned int i = 0; i < n; i++) {
		struct sandbox_artifact_header h;
		size_t left = (size_t)(end - *p);

		if (left < sizeof h)
			return -1;
		memcpy(&h, *p, sizeof h);
		*p += sizeof h;
		left -= sizeof h;
		if (h.name_len < 2 || h.name_len > left || h.size > left - h.name_len ||
		    strnlen(*p, h.name_len) != h.name_len - 1 || (plain && memchr(*p, '/', h.name_len)))
			return -1;
		files[i] = (struct sandbox_file){ .name = *p, .data = *p + h.name_len, .len = (size_t)h.size,
						  .exec = h.exec != 0 };
		*p += h.name_len + h.size;
	}
	return 0;
}

int sandbox_files_map(int fd, struct sandbox_init_spec *s)
{
	struct sandbox_files_header h;
	struct sandbox_file *list = NULL;
	struct stat st;
	const char *p, *end;
	size_t nlist;

	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof h)
		return -1;
	if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED)
		return -1;
	end = p + st.st_size;
	memcpy(&h, p, sizeof h);
	p += sizeof h;
	nlist = (size_t)h.nfiles + h.napp_files;
	/* Every file takes a header in the stream: that bounds the list. */
	if (h.nfiles > SANDBOX_MAX_FILES || nlist > (size_t)(end - p) / sizeof(struct sandbox_artifact_header) ||
	    h.source_len > (size_t)(end - p) || h.stdin_len > (size_t)(end - p) - h.source_len)
		return -1;
	if (nlist > 0 && (list = mmap(NULL, nlist * sizeof *list, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return -1;
	s->source = p;
	s->source_len = (size_t)h.source_len;
	p += h.source_len;
	s->stdin_data = p;
	s->stdin_len = (size_t)h.stdin_len;
	p += h.stdin_len;
	if (parse_entries(&p, end, list, h.nfiles, true) < 0 ||
	    parse_entries(&p, end, list + h.nfiles, h.napp_files, false) < 0 || p != end)
		return -1;
	s->files = list;
	s->nfiles = (int)h.nfiles;
	s->app_files = list ? list + h.nfiles : NULL;
	s->napp_files = (int)h.napp_files;
	return 0;
}
