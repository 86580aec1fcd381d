/* The C baseline of the nsenter benchmark: what `nsenter -t PID -a true` must do at least,
 * with nothing else — pin the target with a pidfd, enter the namespaces that differ from
 * ours in one setns(pidfd, mask), fork (a PID namespace only applies to children), exec the
 * command in the child, wait, mirror its exit code.
 * Usage: baseline PID COMMAND [ARG...] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct { const char *name; int flag; } kinds[] = {
	{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC}, {"mnt", CLONE_NEWNS},
	{"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"time", 0x80},
	{"user", CLONE_NEWUSER}, {"uts", CLONE_NEWUTS},
};

int main(int argc, char **argv)
{
	if (argc < 3)
		return 125;
	int pid = atoi(argv[1]);
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) { perror("pidfd_open"); return 125; }
	int mask = 0;
	char a[64], b[64];
	for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		struct stat st, our;
		snprintf(a, sizeof a, "/proc/%d/ns/%s", pid, kinds[i].name);
		snprintf(b, sizeof b, "/proc/self/ns/%s", kinds[i].name);
		if (stat(a, &st) < 0 || stat(b, &our) < 0) { perror(a); return 125; }
		if (st.st_ino != our.st_ino)
			mask |= kinds[i].flag;
	}
	if (mask && setns(pidfd, mask) < 0) { perror("setns"); return 125; }
	close(pidfd);
	pid_t c = fork();
	if (c < 0) { perror("fork"); return 125; }
	if (c == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	int st;
	if (waitpid(c, &st, 0) < 0) return 125;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
