/* The floor for nsls's benchmark: the least a program can do to list the namespaces of
 * every process — for each /proc/PID, fstatat() its eight ns/KIND links relative to an
 * O_PATH fd of the directory, count processes per namespace inode and keep the lowest PID,
 * then print one line per namespace (NS TYPE NPROCS PID). No threads, fds, mounts, command
 * lines, users or trees: a lower bound, not a competitor.
 *
 * `floor --complete` also looks where nsls's complete discovery looks, the cheapest way we
 * know: one fstatat of /proc/PID/task (st_nlink = 2 + threads) and, for a process with more
 * than one thread, the ns links of every other thread; and every open fd, by listing
 * /proc/PID/fd (getdents64) and one readlinkat per fd (`net:[4026532177]` names an fd-held
 * namespace), and every socket (`socket:[N]`): pidfd_getfd, then ioctl(SIOCGSKNS) for
 * its network namespace (fstat for the inode) — a namespace that only a socket keeps alive.
 * The floor for nsls without --shallow.
 *
 * `floor --complete --cookie` asks each socket for its namespace cookie
 * (getsockopt(SO_NETNS_COOKIE): no new fd) instead, and SIOCGSKNS only once per cookie not
 * seen before — the cheapest way we know, and what nsls does. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *kinds[] = {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"};
static const char *links[] = {"ns/cgroup", "ns/ipc", "ns/mnt", "ns/net",
                              "ns/pid", "ns/time", "ns/user", "ns/uts"};

struct ent { unsigned long ino; int kind, nprocs, pid; };
static struct ent *tab;
static size_t cap = 1 << 16;

static struct ent *slot(unsigned long ino) {
    size_t i = (ino * 11400714819323198485ul) & (cap - 1);
    while (tab[i].ino && tab[i].ino != ino)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static int cmp(const void *a, const void *b) {
    unsigned long x = ((const struct ent *)a)->ino, y = ((const struct ent *)b)->ino;
    return x < y ? -1 : x > y;
}

static void add(unsigned long ino, int kind, int pid) {
    struct ent *s = slot(ino);
    if (!s->ino) {
        s->ino = ino;
        s->kind = kind;
        s->pid = pid;
    }
}

/* Call f(dirfd, name) for every numeric entry of directory `name` under `at`. */
static void each_entry(int at, const char *name, void (*f)(int, const char *, int), int pid) {
    static char buf[32768];
    int d = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0)
        return;
    long n;
    while ((n = syscall(SYS_getdents64, d, buf, sizeof buf)) > 0) {
        for (long off = 0; off < n;) {
            char *name = buf + off + 19;
            off += *(unsigned short *)(buf + off + 16);
            if (name[0] >= '0' && name[0] <= '9')
                f(d, name, pid);
        }
        if (n < (long)sizeof buf - 512) /* procfs fills what fits: this was the end */
            break;
    }
    close(d);
}

static void thread(int taskfd, const char *tid, int pid) {
    if (atoi(tid) == pid)
        return;
    int fd = openat(taskfd, tid, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    for (int k = 0; k < 8; k++) {
        struct stat st;
        if (fstatat(fd, links[k], &st, 0) == 0)
            add(st.st_ino, k, pid);
    }
    close(fd);
}

static int cookie_mode, pidfd = -1, pidfd_of;
static unsigned long long cookies[4096];
static unsigned long cookie_ns[4096];

/* The network namespace of socket `fd` of process `pid`. */
static void socket_fd(int fd, int pid) {
    if (pidfd_of != pid) {
        if (pidfd >= 0)
            close(pidfd);
        pidfd = syscall(SYS_pidfd_open, pid, 0);
        pidfd_of = pid;
    }
    if (pidfd < 0)
        return;
    int s = syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (s < 0)
        return;
    unsigned long long c = 0;
    socklen_t len = sizeof c;
    size_t slot = 0;
    if (cookie_mode && getsockopt(s, SOL_SOCKET, 71 /* SO_NETNS_COOKIE */, &c, &len) == 0) {
        slot = (c * 11400714819323198485ull) >> 52;
        while (cookies[slot] && cookies[slot] != c)
            slot = (slot + 1) & 4095;
        if (cookies[slot]) {
            add(cookie_ns[slot], 3, pid);
            close(s);
            return;
        }
    }
    int ns = ioctl(s, 0x894C /* SIOCGSKNS */);
    struct stat st;
    if (ns >= 0 && fstat(ns, &st) == 0) {
        add(st.st_ino, 3, pid);
        if (cookie_mode && c) {
            cookies[slot] = c;
            cookie_ns[slot] = st.st_ino;
        }
    }
    if (ns >= 0)
        close(ns);
    close(s);
}

static void fd_link(int fddir, const char *fd, int pid) {
    char l[64];
    ssize_t n = readlinkat(fddir, fd, l, sizeof l - 1);
    if (n <= 0)
        return;
    l[n] = 0;
    if (!strncmp(l, "socket:[", 8)) {
        socket_fd(atoi(fd), pid);
        return;
    }
    char *b = strstr(l, ":[");
    if (!b)
        return;
    for (int k = 0; k < 8; k++)
        if ((size_t)(b - l) == strlen(kinds[k]) && !strncmp(l, kinds[k], b - l))
            add(strtoul(b + 2, NULL, 10), k, pid);
}

int main(int argc, char **argv) {
    int complete = argc > 1 && !strcmp(argv[1], "--complete");
    cookie_mode = argc > 2 && !strcmp(argv[2], "--cookie");
    tab = calloc(cap, sizeof *tab);
    int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    DIR *d = opendir("/proc");
    if (!tab || procfd < 0 || !d)
        return 1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        int pid = atoi(e->d_name);
        int fd = openat(procfd, e->d_name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            continue;
        for (int k = 0; k < 8; k++) {
            struct stat st;
            if (fstatat(fd, links[k], &st, 0) < 0)
                break;
            struct ent *s = slot(st.st_ino);
            if (!s->ino) {
                s->ino = st.st_ino;
                s->kind = k;
                s->pid = pid;
            }
            s->nprocs++;
            if (pid < s->pid)
                s->pid = pid;
        }
        if (complete) {
            struct stat st;
            if (fstatat(fd, "task", &st, 0) == 0 && st.st_nlink > 3)
                each_entry(fd, "task", thread, pid);
            each_entry(fd, "fd", fd_link, pid);
        }
        close(fd);
    }
    closedir(d);
    size_t n = 0;
    for (size_t i = 0; i < cap; i++)
        if (tab[i].ino)
            tab[n++] = tab[i];
    qsort(tab, n, sizeof *tab, cmp);
    printf("NS TYPE NPROCS PID\n");
    for (size_t i = 0; i < n; i++)
        printf("%lu %s %d %d\n", tab[i].ino, kinds[tab[i].kind], tab[i].nprocs, tab[i].pid);
    return 0;
}
