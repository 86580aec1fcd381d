/* The floor for nsls's benchmark: the least a program can do to list the namespaces of
 * every process — for each /proc/PID, fstatat() its eight ns/KIND links relative to an
 * O_PATH fd of the directory, count processes per namespace inode and keep the lowest PID,
 * then print one line per namespace (NS TYPE NPROCS PID). No threads, fds, mounts, command
 * lines, users or trees: a lower bound, not a competitor. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

int main(void) {
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
