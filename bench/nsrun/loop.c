/* Interleaved timing for bench/nsrun/run: loop RUNS LABEL=CMD... :: LABEL=CMD... :: ...
 * Every round runs each command once, starting at a different one each round (so no command
 * always follows the same neighbour), with stdout/stderr on /dev/null; the wall time of
 * fork+exec+wait and the CPU time (user+system, from wait4) are recorded. Prints, per
 * command, one tab-separated line: label, wall median, p10, p90, CPU median (microseconds).
 * CPU time is the steadier figure on a loaded machine. A command that fails aborts. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXC 8
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int runs = atoi(argv[1]);
    char **cmds[MAXC]; const char *label[MAXC]; int n = 0;
    for (int i = 2; i < argc && n < MAXC;) {
        char *eq = strchr(argv[i], '=');
        label[n] = argv[i]; *eq = 0; argv[i] = eq + 1;
        cmds[n++] = argv + i;
        while (i < argc && strcmp(argv[i], "::")) i++;
        if (i < argc) argv[i++] = NULL;
    }
    double *t = calloc((size_t)n * runs, sizeof *t);
    double *cpu = calloc((size_t)n * runs, sizeof *cpu);
    int devnull = open("/dev/null", O_RDWR);
    for (int r = 0; r < runs; r++)
        for (int k = 0; k < n; k++) {
            int c = (k + r) % n;
            struct timespec a, b;
            clock_gettime(CLOCK_MONOTONIC, &a);
            pid_t p = fork();
            if (p == 0) {
                dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2);
                execv(cmds[c][0], cmds[c]);
                _exit(127);
            }
            int st;
            struct rusage ru;
            wait4(p, &st, 0, &ru);
            clock_gettime(CLOCK_MONOTONIC, &b);
            if (!WIFEXITED(st) || WEXITSTATUS(st)) {
                fprintf(stderr, "%s failed (status %#x)\n", label[c], st);
                return 1;
            }
            t[c * runs + r] = (b.tv_sec - a.tv_sec) * 1e6 + (b.tv_nsec - a.tv_nsec) / 1e3;
            cpu[c * runs + r] = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                                ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
        }
    for (int c = 0; c < n; c++) {
        double *v = t + c * runs, *u = cpu + c * runs;
        qsort(v, runs, sizeof *v, cmp);
        qsort(u, runs, sizeof *u, cmp);
        printf("%s\t%.1f\t%.1f\t%.1f\t%.1f\n", label[c], v[runs / 2], v[runs / 10],
               v[runs * 9 / 10], u[runs / 2]);
    }
    return 0;
}
