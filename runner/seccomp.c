/*
 * The syscall policy of the sandbox (see seccomp.h).
 *
 * A denylist on a default-allow filter, not an allowlist: CPython with its
 * whole standard library (threads, multiprocessing, asyncio, ctypes, mmap,
 * select/poll/epoll, subprocess) touches a long and version-dependent tail
 * of syscalls, and an allowlist that breaks a learner's valid program on
 * the next Python or glibc update is a failure of the product. The other
 * layers already confine the process (namespaces, no capabilities,
 * no_new_privs, read-only root); what is denied here is the kernel attack
 * surface those layers do not remove -- interfaces that are reachable
 * without privileges, or with the privileges a user namespace hands out,
 * and that carried most container escapes of the past years.
 *
 * Denied calls fail with EPERM, so Python raises a clean PermissionError.
 * A syscall of a foreign ABI (i386 via int 0x80, x32) kills the process:
 * the filter lists the native architecture only, and the numbers of other
 * ABIs mean other calls.
 */
#include "seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U         /* Linux 6.3; older C library headers lack it */
#endif

struct denied {
	int nr;
	const char *name;
};

#define DENY(name) { SCMP_SYS(name), #name }

/* Denied outright, with EPERM. */
static const struct denied denied[] = {
	/* Reading or writing other processes' memory and registers. */
	DENY(ptrace), DENY(process_vm_readv), DENY(process_vm_writev), DENY(pidfd_getfd),
	DENY(process_madvise),
	/* Kernel keyrings: not namespaced; many CVEs (e.g. CVE-2016-0728). */
	DENY(keyctl), DENY(add_key), DENY(request_key),
	/* eBPF, perf, userfaultfd (the classic race amplifier), io_uring
	 * (its own syscall surface, outside seccomp's view: CVE-2023-2598). */
	DENY(bpf), DENY(perf_event_open), DENY(userfaultfd),
	DENY(io_uring_setup), DENY(io_uring_enter), DENY(io_uring_register),
	/* The mount API: the root must stay as built. */
	DENY(mount), DENY(umount2), DENY(pivot_root), DENY(chroot), DENY(move_mount),
	DENY(open_tree), DENY(fsopen), DENY(fsmount), DENY(fsconfig), DENY(fspick),
	DENY(mount_setattr),
	/* New namespaces would hand out fresh capabilities over new objects
	 * (CVE-2022-0185 was reached through an unprivileged user namespace). */
	DENY(unshare), DENY(setns),
	/* The machine itself. */
	DENY(kexec_load), DENY(kexec_file_load), DENY(init_module), DENY(finit_module),
	DENY(delete_module), DENY(reboot), DENY(swapon), DENY(swapoff), DENY(acct),
	DENY(quotactl), DENY(quotactl_fd), DENY(settimeofday), DENY(clock_settime),
	DENY(clock_adjtime), DENY(adjtimex), DENY(syslog), DENY(vhangup),
	/* x86 port I/O and LDT (32-bit code segments), obsolete calls. */
	DENY(iopl), DENY(ioperm), DENY(modify_ldt), DENY(uselib), DENY(ustat), DENY(sysfs),
	DENY(_sysctl), DENY(lookup_dcookie), DENY(nfsservctl),
	/* File handles bypass path permissions (CVE-2014-3519, "shocker"). */
	DENY(open_by_handle_at), DENY(name_to_handle_at), DENY(fanotify_init),
	/* Comparing kernel objects of processes (kcmp: Docker allows it only
	 * with CAP_SYS_PTRACE) and NUMA placement (Docker: CAP_SYS_NICE only;
	 * move_pages and migrate_pages not at all). Learner code has no use
	 * for either, and both reach memory-management code that has had its
	 * share of bugs (mempolicy refcounting, CVE-2018-10675). */
	DENY(kcmp), DENY(get_mempolicy), DENY(set_mempolicy), DENY(set_mempolicy_home_node),
	DENY(mbind), DENY(move_pages), DENY(migrate_pages),
};

#define CLONE_NEW_FLAGS { CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, \
			  CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET }

static int deny_list(scmp_filter_ctx ctx, const char **what)
{
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
		*what = denied[i].name;
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i].nr, 0) < 0)
			return -1;
	}
	return 0;
}

/*
 * clone with a namespace flag is unshare by another name. clone3 passes its
 * flags in memory, out of a filter's reach: ENOSYS makes glibc fall back to
 * clone, whose flags we can check.
 */
static int deny_namespaces(scmp_filter_ctx ctx, const char **what)
{
	static const unsigned long flags[] = CLONE_NEW_FLAGS;

	*what = "clone";
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, flags[i], flags[i])) < 0)
			return -1;
	*what = "clone3";
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

/*
 * Sockets: AF_UNIX, AF_INET and AF_INET6 only (the network namespace has
 * nothing but a downed loopback anyway). Netlink talks to kernel
 * subsystems (nf_tables: CVE-2022-1015, CVE-2023-32233), vsock to the
 * hypervisor (CVE-2021-26708; Docker's default profile denies AF_VSOCK
 * too), packet sockets to the raw link layer (CVE-2020-14386). One
 * comparison per argument and rule: 0, 3..9, > 10. The kernel reads the
 * domain as an int; any value with upper bits set is caught by "> 10", so
 * no truncation can sneak a family through.
 *
 * socketpair reaches the same per-family code before the family says it
 * has no pairs: only AF_UNIX has them, so every other domain is EPERM.
 *
 * Protocols: 0 (the family's default) and TCP and UDP by number. The
 * others name protocol modules of their own -- MPTCP (262), SCTP, DCCP,
 * UDP-Lite, L2TP -- each a kernel surface the product never needs (DCCP:
 * CVE-2017-6074; SCTP: CVE-2021-23133). Docker and nsjail's examples leave
 * protocols open; a sandbox that runs learner Python has no reason to.
 */
static int deny_socket_families(scmp_filter_ctx ctx, const char **what)
{
	*what = "socket";
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, 0)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, 10)) < 0)
		return -1;
	for (int af = 3; af <= 9; af++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, af)) < 0)
			return -1;
	*what = "socketpair";
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socketpair), 1,
				SCMP_A0(SCMP_CMP_NE, AF_UNIX));
}

static int deny_socket_protocols(scmp_filter_ctx ctx, const char **what)
{
	*what = "socket protocol";
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			     SCMP_A2(SCMP_CMP_GT, IPPROTO_UDP)) < 0)
		return -1;
	for (int proto = 1; proto < IPPROTO_UDP; proto++)
		if (proto != IPPROTO_TCP &&
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
				     SCMP_A2(SCMP_CMP_EQ, proto)) < 0)
			return -1;
	return 0;
}

/*
 * /tmp and /dev/shm are noexec, but a memfd is executable by default
 * (execve of /proc/self/fd/N runs it): the one writable place a dropped
 * binary could still run from. The per-PID-namespace sysctl
 * vm.memfd_noexec would fix the default, but only global root may write
 * it, and the runner's own PID namespace is the host's. So memfd_create is
 * allowed only with MFD_NOEXEC_SEAL (executing such a memfd fails with
 * EACCES), other flags get EPERM. Docker allows memfd_create; its containers
 * have no noexec promise to keep. Neither CPython nor glibc creates memfds
 * on their own.
 *
 * A kernel older than 6.3 (Debian 12's 6.1, RHEL 9's 5.14) has no
 * MFD_NOEXEC_SEAL: every memfd it makes is executable. There memfd_create
 * is denied with EPERM whatever the flags -- an errno, not a kill, so a
 * program that probes for memfds falls back as it would on any host
 * without them, and exec from a memfd stays impossible.
 */
static bool kernel_seals_memfds_noexec(void)
{
	int fd = memfd_create("noexec-probe", MFD_CLOEXEC | MFD_NOEXEC_SEAL);

	if (fd < 0)
		return false;       /* EINVAL: the flag is unknown */
	close(fd);
	return true;
}

static int deny_executable_memfd(scmp_filter_ctx ctx, bool no_memfd, const char **what)
{
	*what = "memfd_create";
	if (no_memfd || !kernel_seals_memfds_noexec())
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(memfd_create), 0);
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(memfd_create), 1,
				SCMP_A1(SCMP_CMP_MASKED_EQ, MFD_NOEXEC_SEAL, 0));
}

/*
 * TIOCSTI pushes bytes into a terminal's input (a sandbox holding a tty
 * fd types commands into the parent's shell: CVE-2016-7545, -2017-5226);
 * TIOCLINUX can do the same on a virtual console. The request is compared
 * on its low 32 bits, the part the kernel uses: a request with garbage in
 * the upper half must not slip past (CVE-2019-10063).
 */
static int deny_terminal_injection(scmp_filter_ctx ctx, const char **what)
{
	*what = "ioctl";
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCSTI)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, TIOCLINUX)) < 0)
		return -1;
	/* personality: only the query. Flags such as ADDR_NO_RANDOMIZE or
	 * READ_IMPLIES_EXEC weaken the process's own exploit mitigations. */
	*what = "personality";
	return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(personality), 1,
				SCMP_A0(SCMP_CMP_NE, 0xffffffffUL));
}

/* Copies the exported BPF out of the memfd libseccomp wrote it to. */
static int read_program(int fd, struct sock_fprog *prog)
{
	struct stat st;
	void *buf;

	if (fstat(fd, &st) < 0)
		return -1;
	if (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
	    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		errno = E2BIG;
		return -1;
	}
	if (!(buf = malloc((size_t)st.st_size)))
		return -1;
	if (pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		errno = EIO;
		return -1;
	}
	prog->filter = buf;
	prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
}

static int build_rules(scmp_filter_ctx ctx, bool no_memfd, const char **what)
{
	*what = "kill on a foreign ABI";
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		return -1;
	return deny_list(ctx, what) < 0 || deny_namespaces(ctx, what) < 0 ||
	       deny_socket_families(ctx, what) < 0 || deny_socket_protocols(ctx, what) < 0 ||
	       deny_executable_memfd(ctx, no_memfd, what) < 0 || deny_terminal_injection(ctx, what) < 0 ? -1 : 0;
}

int syscall_filter_build(struct sock_fprog *prog, bool no_memfd, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	const char *what = "seccomp_init";
	int fd = -1, rc = -1;

	memset(prog, 0, sizeof *prog);
	if (!ctx)
		goto out;
	if (build_rules(ctx, no_memfd, &what) < 0)
		goto out;
	what = "export the filter";
	if ((fd = memfd_create("seccomp-bpf", MFD_CLOEXEC)) < 0 || seccomp_export_bpf(ctx, fd) < 0 ||
	    read_program(fd, prog) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		snprintf(err, errlen, "seccomp filter: %s failed", what);
	if (fd >= 0)
		close(fd);
	if (ctx)
		seccomp_release(ctx);
	return rc;
}

void syscall_filter_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}

int syscall_filter_install(const struct sock_fprog *prog)
{
	if (!prog || !prog->filter || prog->len == 0) {
		errno = EINVAL;
		return -1;
	}
	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog);
}
