/* Namespaces that lsns cannot see, and daemons, for nsls's benchmark population:
 *   holder threads N  — N threads, each in its own new UTS namespace (thread-held);
 *   holder fds N      — N new network namespaces with no process, each kept by an open fd;
 *   holder socks N    — N new network namespaces with no process, each kept by a socket;
 *   holder daemon N   — N open fds like a daemon's: every third a socket (UDP, TCP, unix in
 *                       turn, in our own network namespace), the others /dev/null.
 * Prints "ready" once they exist, then sleeps until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static pthread_barrier_t barrier;

static void *thread(void *arg) {
    (void)arg;
    if (unshare(CLONE_NEWUTS) < 0)
        perror("unshare");
    pthread_barrier_wait(&barrier);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3)
        return 2;
    int n = atoi(argv[2]);
    if (!strcmp(argv[1], "threads")) {
        pthread_barrier_init(&barrier, NULL, n + 1);
        for (int i = 0; i < n; i++) {
            pthread_t t;
            if (pthread_create(&t, NULL, thread, NULL))
                return 1;
        }
        pthread_barrier_wait(&barrier);
    } else if (!strcmp(argv[1], "daemon")) {
        static const int fam[3][2] = {{AF_INET, SOCK_DGRAM}, {AF_INET, SOCK_STREAM}, {AF_UNIX, SOCK_DGRAM}};
        for (int i = 0; i < n; i++) {
            int fd = i % 3 == 0 ? socket(fam[i / 3 % 3][0], fam[i / 3 % 3][1], 0)
                                : open("/dev/null", O_RDONLY);
            if (fd < 0)
                return 1;
        }
    } else if (!strcmp(argv[1], "socks")) {
        struct rlimit rl = {n + 64, n + 64};
        setrlimit(RLIMIT_NOFILE, &rl);
        int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        for (int i = 0; i < n; i++) {
            if (unshare(CLONE_NEWNET) < 0 || socket(AF_INET, SOCK_DGRAM, 0) < 0)
                return 1;
            if (setns(home, CLONE_NEWNET) < 0)
                return 1;
        }
    } else {
        struct rlimit rl = {n + 64, n + 64};
        setrlimit(RLIMIT_NOFILE, &rl);
        int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        for (int i = 0; i < n; i++) {
            if (unshare(CLONE_NEWNET) < 0 || open("/proc/thread-self/ns/net", O_RDONLY) < 0)
                return 1;
        }
        if (setns(home, CLONE_NEWNET) < 0)
            return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause();
}
