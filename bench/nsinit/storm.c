/* The 10,000-orphan storm, run as the main command of each init under test.
 *
 * A spawner child forks N children that exit at once and then exits itself without reaping
 * them: N zombies are re-parented to the init (PID 1 of a fresh PID namespace). From the
 * moment the spawner is reaped, we poll /proc of that namespace until only the init and we
 * are left, and print the elapsed microseconds (the init's time to reap the storm, noisy on
 * a shared machine) and the CPU time the init used meanwhile (from /proc/1/schedstat, in
 * microseconds: steadier). */
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

/* Nanoseconds PID 1 has spent on a CPU. */
static long long init_cpu_ns(void) {
    long long ns = -1;
    FILE *f = fopen("/proc/1/schedstat", "r");
    if (f) {
        if (fscanf(f, "%lld", &ns) != 1) ns = -1;
        fclose(f);
    }
    return ns;
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
    long long cpu0 = init_cpu_ns();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Left: the init and this process. */
    while (count_procs() > 2) {
        /* A scan of /proc competes with the init's reaping for the task list: keep it rare. */
        usleep(500);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > 60) { fprintf(stderr, "storm not reaped\n"); return 3; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long cpu1 = init_cpu_ns();
    printf("%ld %lld\n", (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000,
           (cpu1 - cpu0) / 1000);
    return 0;
}
