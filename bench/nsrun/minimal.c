/* The C baseline for bench/nsrun/run: the same syscalls nsrun makes, nothing more.
 *   minimal r CMD...     unshare(USER), setgroups deny, uid_map, gid_map, exec      (= nsrun -r)
 *   minimal full CMD...  unshare(USER|PID|NS|UTS|IPC|NET), the maps, / private, lo up,
 *                        fork; child: mount proc on /proc (private), exec; parent: wait
 *                                                         (= nsrun -Urpfmuin --mount-proc) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) { perror(what); exit(125); }

static void put(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) < 0) die(path);
    close(fd);
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: minimal r|full CMD...\n"); return 125; }
    int full = strcmp(argv[1], "full") == 0;
    char buf[64];
    unsigned uid = geteuid(), gid = getegid();
    int flags = CLONE_NEWUSER;
    if (full) flags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
    if (unshare(flags)) die("unshare");
    put("/proc/self/setgroups", "deny");
    snprintf(buf, sizeof buf, "0 %u 1\n", uid);
    put("/proc/self/uid_map", buf);
    snprintf(buf, sizeof buf, "0 %u 1\n", gid);
    put("/proc/self/gid_map", buf);
    if (!full) { execvp(argv[2], argv + 2); die("exec"); }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) die("mount /");
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq req = {0};
    strcpy(req.ifr_name, "lo");
    req.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
    if (s < 0 || ioctl(s, SIOCSIFFLAGS, &req)) die("lo");
    close(s);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) die("proc");
        if (mount(NULL, "/proc", NULL, MS_PRIVATE | MS_REC, NULL)) die("proc private");
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) die("wait");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
