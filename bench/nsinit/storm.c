/* The 10,000-orphan storm, run as the main command of each init under test.
 *
 * A spawner child forks N children that exit at once and then exits itself without reaping
 * them: N zombies are re-parented to the init (PID 1 of a fresh PID namespace). From the
 * moment the spawner is reaped, we poll /proc of that namespace until only the init and we
 * are left, and print the elapsed microseconds: the init's time to reap the storm. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int count_procs(void) {
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    if (!d) { perror("/proc"); exit(2); }
    while ((e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9') n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    struct timespec t0, t1;
    pid_t spawner = fork();
    if (spawner < 0) { perror("fork"); return 2; }
    if (spawner == 0) {
        for (int i = 0; i < n; i++) {
            pid_t p = fork();
            if (p == 0) _exit(0);
            if (p < 0) { perror("fork"); _exit(2); }
        }
        _exit(0);
    }
    int st;
    if (waitpid(spawner, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) return 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Left: the init and this process. */
    while (count_procs() > 2) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 60) { fprintf(stderr, "storm not reaped\n"); return 3; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%ld\n", (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000);
    return 0;
}
